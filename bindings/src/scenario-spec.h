// What the Python side hands to the simulation: a scenario as plain values
// (already validated by quicbed/scenario.py, checked again where a bad value
// would reach an ns-3 fatal error), and what a run gives back as columns.
// Plain data only, so that building and running need no Python and the
// binding can release the GIL around them.
#ifndef QUICBED_BINDINGS_SCENARIO_SPEC_H
#define QUICBED_BINDINGS_SCENARIO_SPEC_H

#include <cstdint>
#include <string>
#include <vector>

namespace quicbed_py
{

struct LossSpec
{
    enum Kind
    {
        NONE,
        RANDOM,          // RateErrorModel, per packet
        GILBERT_ELLIOTT, // QuicGilbertElliottErrorModel
        DROP_LIST,       // ReceiveListErrorModel: 0-based arrival indices
    };
    Kind kind = NONE;
    double p = 0;
    double pGoodBad = 0;
    double pBadGood = 0;
    double lossGood = 0;
    double lossBad = 1;
    std::vector<uint32_t> drops;
};

struct FlowSpec
{
    enum Kind
    {
        QUIC,
        TCP,
        UDP,
    };
    Kind kind = QUIC;
    std::string name;
    double start = 0;   // seconds
    uint64_t bytes = 0; // 0: bulk, until the end of the run
    // QUIC
    std::string cc = "Cubic"; // the QuicSocket CongestionControl enum name
    bool zeroRtt = false;
    bool ecn = false;
    bool datagrams = false;
    bool nullCipher = false;
    uint64_t maxData = 0;       // 0: the module's default
    uint64_t maxStreamData = 0; // 0: the module's default
    uint32_t initialWindow = 10;
    uint32_t version = 1;
    // TCP: an ns-3 TcpCongestionOps TypeId name ("ns3::TcpCubic")
    std::string tcpVariant;
    // UDP on/off
    double udpRateBps = 0;
    double onSeconds = 0;
    double offSeconds = 0;
};

struct ScenarioSpec
{
    std::string topology = "p2p"; // p2p, dumbbell, parking_lot
    double rateBps = 10e6;
    double delaySeconds = 0.02;
    uint32_t queuePackets = 100;
    std::string queueDisc = "fifo"; // fifo, red, codel, fq_codel
    LossSpec loss;
    double duration = 10;
    uint32_t hops = 3; // parking_lot
    std::vector<FlowSpec> flows;
};

struct RunOptions
{
    uint32_t seed = 1;
    uint64_t run = 1;
    double sampleInterval = 0.01;
    std::string qlogDir; // empty: no qlog
    std::string pcapDir; // empty: no pcap
};

// Columns of the three tables (quicbed.Result); NaN where a value does not
// exist (a UDP flow's window, an unfinished flow's completion time).
struct RunResult
{
    struct Flows
    {
        std::vector<double> goodputBps, completionTime, handshakeTime, firstByteTime;
        std::vector<uint64_t> bytes, lostPackets, declaredLost, retransmissions;
    } flows;
    struct Series
    {
        std::vector<uint32_t> flow;
        std::vector<double> time, cwnd, rtt, bytesInFlight, pacingRate, delivered;
    } series;
    struct Queue
    {
        std::vector<uint32_t> link;
        std::vector<double> time;
        std::vector<uint64_t> packets, bytes, drops, marks;
    } queue;
    std::vector<std::string> pcapFiles;
    std::string keyLogFile; // with pcap: decrypts the QUIC packets
};

} // namespace quicbed_py

#endif
