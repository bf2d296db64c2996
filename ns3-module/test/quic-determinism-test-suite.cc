// Determinism: the same seed and run number give byte-identical qlog files,
// for several runs in one process; another run number gives other
// connection IDs (the randomness is ns-3's, through AssignStreams).
//
// TLS's own randomness (GnuTLS's client and server randoms, key shares,
// ticket contents) cannot come from ns-3; it changes key bytes, which no
// qlog holds. Every size stays the same (X25519 shares, Ed25519
// signatures of fixed length), so packets, frames, times and congestion
// state repeat exactly.
#include "quic-test-util.h"

#include "ns3/test.h"

#include <filesystem>

using namespace ns3;
using namespace ns3::quictest;

class QuicQlogDeterminismTestCase : public TestCase
{
  public:
    QuicQlogDeterminismTestCase()
        : TestCase("same seed and run: identical qlog hashes")
    {
    }

  private:
    uint64_t Run(uint32_t run, size_t& files)
    {
        const std::string dir = MakeTempDir("quic-determinism");
        Transfer t;
        t.maxBytes = 2'000'000;
        t.seconds = 20;
        t.dataLoss = 0.01;
        t.ackLoss = 0.01;
        t.run = run;
        t.qlogDir = dir;
        TransferResult r = RunTransfer(t);
        NS_TEST_EXPECT_MSG_EQ(r.rxBytes, t.maxBytes, "transfer complete");
        files = CountFiles(dir);
        uint64_t h = HashDirectory(dir);
        std::filesystem::remove_all(dir);
        return h;
    }

    void DoRun() override
    {
        size_t filesA = 0;
        size_t filesB = 0;
        size_t filesC = 0;
        const uint64_t a = Run(1, filesA);
        const uint64_t b = Run(1, filesB);
        const uint64_t c = Run(2, filesC);
        NS_TEST_ASSERT_MSG_EQ(filesA, 2, "one qlog per connection end");
        NS_TEST_ASSERT_MSG_EQ(filesB, 2, "one qlog per connection end");
        NS_TEST_ASSERT_MSG_EQ(a, b, "same seed and run: identical qlog");
        NS_TEST_ASSERT_MSG_NE(a, c, "another run number: other connection IDs and losses");
    }
};

class QuicDeterminismTestSuite : public TestSuite
{
  public:
    QuicDeterminismTestSuite()
        : TestSuite("quic-determinism", UNIT)
    {
        AddTestCase(new QuicQlogDeterminismTestCase(), TestCase::QUICK);
    }
};

static QuicDeterminismTestSuite g_quicDeterminismTestSuite;
