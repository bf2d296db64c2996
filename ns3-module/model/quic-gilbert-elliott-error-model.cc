#include "quic-gilbert-elliott-error-model.h"

#include "ns3/double.h"

namespace ns3
{

NS_OBJECT_ENSURE_REGISTERED(QuicGilbertElliottErrorModel);

TypeId
QuicGilbertElliottErrorModel::GetTypeId()
{
    static TypeId tid =
        TypeId("ns3::QuicGilbertElliottErrorModel")
            .SetParent<ErrorModel>()
            .SetGroupName("Quic")
            .AddConstructor<QuicGilbertElliottErrorModel>()
            .AddAttribute("PGoodBad",
                          "Probability of moving from Good to Bad before a packet.",
                          DoubleValue(0),
                          MakeDoubleAccessor(&QuicGilbertElliottErrorModel::m_pGoodBad),
                          MakeDoubleChecker<double>(0, 1))
            .AddAttribute("PBadGood",
                          "Probability of moving from Bad to Good before a packet.",
                          DoubleValue(1),
                          MakeDoubleAccessor(&QuicGilbertElliottErrorModel::m_pBadGood),
                          MakeDoubleChecker<double>(0, 1))
            .AddAttribute("LossGood",
                          "Probability that a packet is lost in state Good.",
                          DoubleValue(0),
                          MakeDoubleAccessor(&QuicGilbertElliottErrorModel::m_lossGood),
                          MakeDoubleChecker<double>(0, 1))
            .AddAttribute("LossBad",
                          "Probability that a packet is lost in state Bad.",
                          DoubleValue(1),
                          MakeDoubleAccessor(&QuicGilbertElliottErrorModel::m_lossBad),
                          MakeDoubleChecker<double>(0, 1));
    return tid;
}

QuicGilbertElliottErrorModel::QuicGilbertElliottErrorModel()
    : m_random(CreateObject<UniformRandomVariable>())
{
}

int64_t
QuicGilbertElliottErrorModel::AssignStreams(int64_t stream)
{
    m_random->SetStream(stream);
    return 1;
}

bool
QuicGilbertElliottErrorModel::DoCorrupt(Ptr<Packet>)
{
    const double move = m_random->GetValue();
    if (m_bad ? move < m_pBadGood : move < m_pGoodBad)
    {
        m_bad = !m_bad;
    }
    return m_random->GetValue() < (m_bad ? m_lossBad : m_lossGood);
}

void
QuicGilbertElliottErrorModel::DoReset()
{
    m_bad = false;
}

} // namespace ns3
