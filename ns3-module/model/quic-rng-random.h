// The core's Random (stack/random.h) on an ns-3 RNG stream: connection IDs,
// stateless reset tokens, PATH_CHALLENGE data and the endpoint's keys come
// from the simulator's seed and run number, so a run repeats byte for byte.
#ifndef QUIC_RNG_RANDOM_H
#define QUIC_RNG_RANDOM_H

#include "random.h"

#include "ns3/ptr.h"
#include "ns3/random-variable-stream.h"

namespace ns3
{

class QuicRngRandom final : public quicbed::Random
{
  public:
    QuicRngRandom();
    // Fixes the stream index (ns-3's AssignStreams); returns the number of
    // streams used (1).
    int64_t AssignStreams(int64_t stream);
    void fill(quicbed::MutBytes out) override;

  private:
    Ptr<UniformRandomVariable> m_rv;
};

} // namespace ns3

#endif
