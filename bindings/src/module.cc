// quicbed._core: the pybind11 side of the Python package. quicbed.Scenario
// (scenario.py) validates a scenario and calls run() with it as plain
// Python values; run() copies them into a ScenarioSpec, releases the GIL
// for the whole simulation and returns the result columns as NumPy arrays.
#include "scenario-runner.h"

#include "ns3/tcp-congestion-ops.h"
#include "ns3/tcp-cubic.h"
#include "ns3/type-id.h"

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <algorithm>
#include <map>
#include <stdexcept>

namespace py = pybind11;

namespace quicbed_py
{
namespace
{

template <typename T>
py::array_t<T>
Column(const std::vector<T>& v)
{
    return py::array_t<T>(static_cast<py::ssize_t>(v.size()), v.data());
}

// Column name -> array, in order (pandas keeps the dict's order).
py::dict
Table(std::initializer_list<std::pair<const char*, py::object>> columns)
{
    py::dict d;
    for (const auto& [name, column] : columns)
    {
        d[name] = column;
    }
    return d;
}

// The names of ns-3's TCP congestion controls ("TcpCubic", ...), for
// add_tcp_flow(variant=...).
std::vector<std::string>
TcpVariants()
{
    // ns-3 3.37's TcpCubic is a TcpCongestionOps whose TypeId names
    // TcpSocketBase as its parent, so it is not found by its parent.
    const ns3::TypeId cubic = ns3::TcpCubic::GetTypeId();
    std::vector<std::string> names;
    const ns3::TypeId base = ns3::TcpCongestionOps::GetTypeId();
    for (uint16_t i = 0; i < ns3::TypeId::GetRegisteredN(); ++i)
    {
        const ns3::TypeId t = ns3::TypeId::GetRegistered(i);
        if ((t != base && t.IsChildOf(base) && t.HasConstructor()) || t == cubic)
        {
            const std::string name = t.GetName();
            names.push_back(name.rfind("ns3::", 0) == 0 ? name.substr(5) : name);
        }
    }
    return names;
}

LossSpec
ToLoss(const py::dict& d)
{
    LossSpec l;
    const std::string kind = d["kind"].cast<std::string>();
    if (kind == "none")
    {
        l.kind = LossSpec::NONE;
    }
    else if (kind == "random")
    {
        l.kind = LossSpec::RANDOM;
        l.p = d["p"].cast<double>();
    }
    else if (kind == "gilbert_elliott")
    {
        l.kind = LossSpec::GILBERT_ELLIOTT;
        l.pGoodBad = d["p_gb"].cast<double>();
        l.pBadGood = d["p_bg"].cast<double>();
        l.lossGood = d["loss_good"].cast<double>();
        l.lossBad = d["loss_bad"].cast<double>();
    }
    else if (kind == "drop_list")
    {
        l.kind = LossSpec::DROP_LIST;
        l.drops = d["packets"].cast<std::vector<uint32_t>>();
    }
    else
    {
        throw std::invalid_argument("unknown loss kind '" + kind + "'");
    }
    return l;
}

FlowSpec
ToFlow(const py::dict& d)
{
    static const std::vector<std::string> tcp = TcpVariants();
    FlowSpec f;
    const std::string kind = d["kind"].cast<std::string>();
    f.name = d["name"].cast<std::string>();
    f.start = d["start"].cast<double>();
    f.bytes = d["bytes"].is_none() ? 0 : d["bytes"].cast<uint64_t>();
    if (kind == "quic")
    {
        static const std::map<std::string, std::string> cc = {
            {"newreno", "NewReno"}, {"cubic", "Cubic"}, {"bbr", "Bbr"}};
        auto it = cc.find(d["cc"].cast<std::string>());
        if (it == cc.end())
        {
            throw std::invalid_argument("unknown QUIC congestion control '" + d["cc"].cast<std::string>() + "'");
        }
        f.kind = FlowSpec::QUIC;
        f.cc = it->second;
        f.zeroRtt = d["zero_rtt"].cast<bool>();
        f.ecn = d["ecn"].cast<bool>();
        f.datagrams = d["datagrams"].cast<bool>();
        f.nullCipher = d["crypto"].cast<std::string>() == "null";
        f.maxData = d["max_data"].is_none() ? 0 : d["max_data"].cast<uint64_t>();
        f.maxStreamData = d["max_stream_data"].is_none() ? 0 : d["max_stream_data"].cast<uint64_t>();
        f.initialWindow = d["initial_window"].cast<uint32_t>();
        f.version = d["version"].cast<uint32_t>();
    }
    else if (kind == "tcp")
    {
        f.kind = FlowSpec::TCP;
        const std::string variant = d["variant"].cast<std::string>();
        if (std::find(tcp.begin(), tcp.end(), variant) == tcp.end())
        {
            throw std::invalid_argument("unknown ns-3 TCP variant '" + variant + "'");
        }
        f.tcpVariant = "ns3::" + variant;
    }
    else if (kind == "udp")
    {
        f.kind = FlowSpec::UDP;
        f.udpRateBps = d["rate"].cast<double>();
        f.onSeconds = d["on"].cast<double>();
        f.offSeconds = d["off"].cast<double>();
    }
    else
    {
        throw std::invalid_argument("unknown flow kind '" + kind + "'");
    }
    return f;
}

ScenarioSpec
ToSpec(const py::dict& d)
{
    ScenarioSpec s;
    s.topology = d["topology"].cast<std::string>();
    s.rateBps = d["rate"].cast<double>();
    s.delaySeconds = d["delay"].cast<double>();
    s.queuePackets = d["queue_packets"].cast<uint32_t>();
    s.queueDisc = d["queue_disc"].cast<std::string>();
    s.loss = ToLoss(d["loss"].cast<py::dict>());
    s.duration = d["duration"].cast<double>();
    s.hops = d["hops"].cast<uint32_t>();
    for (const py::handle f : d["flows"].cast<py::list>())
    {
        s.flows.push_back(ToFlow(f.cast<py::dict>()));
    }
    // The last line of defence before ns-3 (scenario.py checks first and
    // explains more): values that would reach an ns-3 fatal error.
    if (s.topology != "p2p" && s.topology != "dumbbell" && s.topology != "parking_lot")
    {
        throw std::invalid_argument("unknown topology '" + s.topology + "'");
    }
    if (s.queueDisc != "fifo" && s.queueDisc != "red" && s.queueDisc != "codel" && s.queueDisc != "fq_codel")
    {
        throw std::invalid_argument("unknown queue discipline '" + s.queueDisc + "'");
    }
    if (!(s.rateBps >= 1) || !(s.delaySeconds >= 0) || s.queuePackets < 1 || !(s.duration > 0) || s.hops < 1 ||
        s.flows.empty())
    {
        throw std::invalid_argument("rate, delay, queue_packets, duration, hops or flows out of range");
    }
    return s;
}

py::dict
RunPy(const py::dict& scenario, uint32_t seed, uint64_t run, double sampleInterval, const std::string& qlogDir,
      const std::string& pcapDir)
{
    ScenarioSpec spec;
    try
    {
        spec = ToSpec(scenario);
    }
    catch (const py::cast_error& e)
    {
        // A value of the wrong type where quicbed.Scenario.spec() puts one.
        throw py::type_error(std::string("scenario dict: a value has the wrong type (") + e.what() + ")");
    }
    if (seed == 0 || run == 0)
    {
        throw std::invalid_argument("seed and run must be >= 1");
    }
    if (!(sampleInterval > 0))
    {
        throw std::invalid_argument("sample_interval must be > 0");
    }
    const RunOptions options{seed, run, sampleInterval, qlogDir, pcapDir};
    RunResult r;
    {
        py::gil_scoped_release release;
        r = RunScenario(spec, options);
    }
    const RunResult::Flows& f = r.flows;
    const RunResult::Series& t = r.series;
    const RunResult::Queue& q = r.queue;
    py::dict out;
    out["flows"] = Table({{"goodput_bps", Column(f.goodputBps)}, {"bytes", Column(f.bytes)},
                          {"completion_time", Column(f.completionTime)}, {"first_byte_time", Column(f.firstByteTime)},
                          {"handshake_time", Column(f.handshakeTime)}, {"lost_packets", Column(f.lostPackets)},
                          {"declared_lost", Column(f.declaredLost)}, {"retransmissions", Column(f.retransmissions)}});
    out["timeseries"] = Table({{"flow", Column(t.flow)}, {"time", Column(t.time)}, {"cwnd", Column(t.cwnd)},
                               {"rtt", Column(t.rtt)}, {"bytes_in_flight", Column(t.bytesInFlight)},
                               {"pacing_rate", Column(t.pacingRate)}, {"delivered", Column(t.delivered)}});
    out["queue"] = Table({{"link", Column(q.link)}, {"time", Column(q.time)}, {"packets", Column(q.packets)},
                          {"bytes", Column(q.bytes)}, {"drops", Column(q.drops)}, {"marks", Column(q.marks)}});
    out["pcap_files"] = r.pcapFiles;
    out["keylog_file"] = r.keyLogFile;
    return out;
}

} // namespace
} // namespace quicbed_py

PYBIND11_MODULE(_core, m)
{
    m.doc() = "quicbed's ns-3 simulations (use quicbed.Scenario)";
    m.def("run", &quicbed_py::RunPy, py::arg("scenario"), py::arg("seed"), py::arg("run"),
          py::arg("sample_interval"), py::arg("qlog_dir"), py::arg("pcap_dir"),
          "Runs a scenario dict (quicbed.Scenario builds it) without the GIL; returns its columns.");
    m.def("tcp_variants", &quicbed_py::TcpVariants, "ns-3's TCP congestion controls (TcpCongestionOps names).");
}
