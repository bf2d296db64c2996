// A transfer completes with the exact byte count, over clean and lossy
// links, with real crypto and with the null packet cipher; the client's
// traces (Config paths as ns-3's TCP) fire.
#include "quic-test-util.h"

#include "ns3/test.h"

using namespace ns3;
using namespace ns3::quictest;

class QuicExactTransferTestCase : public TestCase
{
  public:
    QuicExactTransferTestCase(std::string name, Transfer t)
        : TestCase(name),
          m_t(std::move(t))
    {
    }

  private:
    void DoRun() override
    {
        TransferResult r = RunTransfer(m_t);
        NS_TEST_ASSERT_MSG_EQ(r.handshakeDone, true, "handshake completed (HandshakeDone trace)");
        NS_TEST_ASSERT_MSG_EQ(r.rxBytes, m_t.maxBytes, "the sink read exactly the bytes sent");
        NS_TEST_ASSERT_MSG_EQ(r.clientClosedCleanly, true, "the connection closed with NO_ERROR");
        NS_TEST_ASSERT_MSG_GT(r.cwndChanges, 0, "CongestionWindow trace fired");
        if (m_t.dataLoss > 0)
        {
            NS_TEST_ASSERT_MSG_GT(r.lostPackets, 0, "PacketLost trace fired on a lossy link");
        }
    }

    Transfer m_t;
};

class QuicTransferTestSuite : public TestSuite
{
  public:
    QuicTransferTestSuite()
        : TestSuite("quic-transfer", UNIT)
    {
        Transfer clean;
        clean.maxBytes = 3'000'000;
        clean.seconds = 20;
        AddTestCase(new QuicExactTransferTestCase("clean link, GnuTLS", clean), TestCase::QUICK);

        Transfer lossy = clean;
        lossy.dataLoss = 0.02;
        lossy.ackLoss = 0.02;
        AddTestCase(new QuicExactTransferTestCase("2% loss both ways, GnuTLS", lossy), TestCase::QUICK);

        Transfer veryLossy = clean;
        veryLossy.maxBytes = 1'000'000;
        veryLossy.dataLoss = 0.10;
        veryLossy.ackLoss = 0.05;
        veryLossy.seconds = 60;
        veryLossy.congestionControl = "NewReno";
        AddTestCase(new QuicExactTransferTestCase("10% data and 5% ack loss, NewReno", veryLossy), TestCase::QUICK);

        Transfer nullCipher = lossy;
        nullCipher.cryptoMode = "NullCipherForSweeps";
        AddTestCase(new QuicExactTransferTestCase("2% loss, NullCipherForSweeps", nullCipher), TestCase::QUICK);
    }
};

static QuicTransferTestSuite g_quicTransferTestSuite;
