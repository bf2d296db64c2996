// The test runner of the out-of-tree build: ns-3 trees build one
// (utils/test-runner.cc), Debian's packages do not. Same flags:
// --suite=NAME, --list, --verbose, ...
#include "ns3/test.h"

int
main(int argc, char** argv)
{
    return ns3::TestRunner::Run(argc, argv);
}
