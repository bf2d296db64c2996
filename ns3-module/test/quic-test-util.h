// Shared by the module's TestSuites: a two-node point-to-point transfer
// (BulkSend over QUIC into a PacketSink, or over TCP for comparison), with
// random loss, qlog and the traces the tests look at; and a hash of a qlog
// directory.
#ifndef QUIC_TEST_UTIL_H
#define QUIC_TEST_UTIL_H

#include "ns3/nstime.h"
#include "ns3/tcp-socket-state.h"

#include <cstdint>
#include <string>

namespace ns3
{
namespace quictest
{

struct Transfer
{
    // The link: rate, one-way delay, drop-tail queue, random loss
    // (RateErrorModel per packet) on the data direction and, if set, on
    // the acknowledgements' direction.
    std::string rate = "10Mbps";
    std::string delay = "10ms";
    uint32_t queuePackets = 1000;
    double dataLoss = 0;
    double ackLoss = 0;
    // The transfer: bytes (0: until the end), simulated seconds, seed/run.
    uint64_t maxBytes = 0;
    double seconds = 10;
    uint32_t seed = 1;
    uint32_t run = 1;
    // QuicSocket attributes.
    std::string congestionControl = "Cubic";
    std::string cryptoMode = "Gnutls";
    std::string qlogDir; // empty: no qlog
    uint32_t initialWindow = 10;
};

struct TransferResult
{
    uint64_t rxBytes = 0;           // read by the sink
    uint64_t clientDatagrams = 0;   // sent by the client (its Tx trace)
    uint64_t lostPackets = 0;       // the client's PacketLost trace
    uint64_t cwndChanges = 0;       // CongestionWindow trace calls (client)
    // How often the client's CongState trace entered each state.
    uint32_t congStates[TcpSocketState::CA_LAST_STATE] = {};
    bool handshakeDone = false;     // the client's HandshakeDone trace
    bool clientClosedCleanly = false; // ConnectionClosed with NO_ERROR
    Time completion;                // when the client's connection closed
};

// Attribute defaults back to the TypeIds' and the RNG to `seed` and `run`,
// for a simulation of its own.
void ResetSimulation(uint32_t seed = 1, uint32_t run = 1);

// Runs one simulation (Simulator::Destroy() at its end): the client starts
// at 0.1 s.
TransferResult RunTransfer(const Transfer& t);

// A new empty directory under the system's temporary directory.
std::string MakeTempDir(const std::string& prefix);
// FNV-1a of every file of `dir` (names and contents, by name order).
uint64_t HashDirectory(const std::string& dir);
size_t CountFiles(const std::string& dir);

} // namespace quictest
} // namespace ns3

#endif
