#include "quic-rng-random.h"

namespace ns3
{

QuicRngRandom::QuicRngRandom()
    : m_rv(CreateObject<UniformRandomVariable>())
{
}

int64_t
QuicRngRandom::AssignStreams(int64_t stream)
{
    m_rv->SetStream(stream);
    return 1;
}

void
QuicRngRandom::fill(quicbed::MutBytes out)
{
    // Two bytes per draw: the generator's doubles carry about 32 bits, so
    // 16-bit integers come out uniform.
    size_t i = 0;
    while (i < out.size())
    {
        uint32_t v = m_rv->GetInteger(0, 0xffff);
        for (int k = 0; k < 2 && i < out.size(); ++k, ++i)
        {
            out[i] = static_cast<uint8_t>(v >> (8 * k));
        }
    }
}

} // namespace ns3
