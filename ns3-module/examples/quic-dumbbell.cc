// A dumbbell with N QUIC and M TCP bulk flows sharing a drop-tail
// bottleneck; prints each flow's goodput, Jain's fairness index and what
// FlowMonitor saw per 5-tuple (QUIC flows are UDP to ports 5000+i).
//
//   quic-dumbbell --quic=2 --tcp=2 --bottleneck=20Mbps --delay=10ms --queue=70 --seconds=30
//   quic-dumbbell --pcap=1 --keylog=/tmp/keys.txt   (tshark -o tls.keylog_file:/tmp/keys.txt)
#include "ns3/core-module.h"
#include "ns3/flow-monitor-helper.h"
#include "ns3/flow-monitor.h"
#include "ns3/ipv4-flow-classifier.h"
#include "ns3/quic-dumbbell-helper.h"
#include "ns3/quic-helper.h"

#include <iomanip>
#include <iostream>

using namespace ns3;

int
main(int argc, char* argv[])
{
    QuicDumbbellHelper::Params params;
    double seconds = 30;
    std::string quicCc = "Cubic";
    std::string qlog;
    std::string keylog;
    bool pcap = false;
    CommandLine cmd(__FILE__);
    cmd.AddValue("quic", "QUIC flows", params.quicFlows);
    cmd.AddValue("tcp", "TCP flows", params.tcpFlows);
    cmd.AddValue("bottleneck", "Bottleneck rate", params.bottleneckRate);
    cmd.AddValue("delay", "Bottleneck one-way delay", params.bottleneckDelay);
    cmd.AddValue("queue", "Bottleneck drop-tail queue, packets", params.queuePackets);
    cmd.AddValue("quicCc", "QUIC congestion control (NewReno, Cubic)", quicCc);
    cmd.AddValue("tcpCc", "TCP congestion control TypeId", params.tcpCongestionControl);
    cmd.AddValue("seconds", "Simulated seconds", seconds);
    cmd.AddValue("qlog", "Directory for qlog files", qlog);
    cmd.AddValue("keylog", "TLS key log file (to decrypt the pcaps)", keylog);
    cmd.AddValue("pcap", "Pcap of the bottleneck (quic-dumbbell-*.pcap)", pcap);
    cmd.Parse(argc, argv);

    Config::SetDefault("ns3::QuicSocket::CongestionControl", StringValue(quicCc));
    Config::SetDefault("ns3::QuicSocket::QlogDir", StringValue(qlog));
    Config::SetDefault("ns3::QuicSocket::TlsKeyLogFile", StringValue(keylog));
    QuicDumbbellHelper dumbbell(params);
    if (pcap)
    {
        dumbbell.Bottleneck().EnablePcap("quic-dumbbell", dumbbell.Dumbbell().GetLeft()->GetDevice(1));
    }
    FlowMonitorHelper flowmon;
    Ptr<FlowMonitor> monitor = flowmon.InstallAll();
    dumbbell.MarkWindowStart(Seconds(std::min(10.0, seconds / 3)));
    Simulator::Stop(Seconds(seconds));
    Simulator::Run();

    std::vector<double> goodputs = dumbbell.Goodputs();
    std::cout << std::fixed << std::setprecision(3);
    for (uint32_t i = 0; i < goodputs.size(); ++i)
    {
        std::cout << "flow " << i << " (" << (dumbbell.IsQuic(i) ? "QUIC" : "TCP") << "): " << goodputs[i] / 1e6
                  << " Mbit/s\n";
    }
    std::cout << "Jain's fairness index: " << QuicDumbbellHelper::JainIndex(goodputs) << "\n";

    auto classifier = DynamicCast<Ipv4FlowClassifier>(flowmon.GetClassifier());
    for (const auto& [id, stats] : monitor->GetFlowStats())
    {
        Ipv4FlowClassifier::FiveTuple t = classifier->FindFlow(id);
        if (stats.txPackets < 100)
        {
            continue; // flows that hardly carried anything
        }
        std::cout << "FlowMonitor " << (t.protocol == 17 ? "UDP " : "TCP ") << t.sourceAddress << " -> "
                  << t.destinationAddress << ":" << t.destinationPort << ": tx " << stats.txPackets
                  << " rx " << stats.rxPackets << " lost(tx-rx) " << stats.txPackets - stats.rxPackets
                  << " mean delay " << (stats.rxPackets ? stats.delaySum.GetSeconds() / stats.rxPackets * 1e3 : 0)
                  << " ms\n";
    }
    Simulator::Destroy();
    return 0;
}
