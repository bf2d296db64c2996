// A Gilbert-Elliott packet loss model: bursty loss, which ns-3 3.37 does
// not have (its BurstErrorModel drops runs of a random length, with no
// "bad channel" state that loses only some packets).
//
// A two-state Markov chain, one step per packet: in state Good a packet
// is lost with probability LossGood, in Bad with LossBad; before each
// packet the chain moves Good -> Bad with probability PGoodBad and
// Bad -> Good with PBadGood. In the long run a fraction
// PGoodBad / (PGoodBad + PBadGood) of packets see Bad, and bursts of Bad
// last 1 / PBadGood packets on average. With LossGood = 0 and LossBad = 1
// this is Gilbert's original model.
#ifndef QUIC_GILBERT_ELLIOTT_ERROR_MODEL_H
#define QUIC_GILBERT_ELLIOTT_ERROR_MODEL_H

#include "ns3/error-model.h"
#include "ns3/random-variable-stream.h"

namespace ns3
{

class QuicGilbertElliottErrorModel : public ErrorModel
{
  public:
    static TypeId GetTypeId();
    QuicGilbertElliottErrorModel();

    // Fixes the random stream (one); returns the number used.
    int64_t AssignStreams(int64_t stream);
    bool IsBad() const
    {
        return m_bad;
    }

  private:
    bool DoCorrupt(Ptr<Packet> p) override;
    void DoReset() override;

    double m_pGoodBad;
    double m_pBadGood;
    double m_lossGood;
    double m_lossBad;
    bool m_bad = false;
    Ptr<UniformRandomVariable> m_random;
};

} // namespace ns3

#endif
