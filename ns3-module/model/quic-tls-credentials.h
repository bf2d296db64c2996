// The TLS side of the simulator host: a certificate authority and a server
// certificate made in-process once per program (Ed25519, whose signatures
// have a fixed size, so that the handshake's packet sizes do not depend on
// the run), and the GnuTLS contexts the sockets share (userspace/gnutls_tls.h,
// the same TLS code as the userspace endpoint). Clients verify the server's
// chain and name like any client would.
#ifndef QUIC_TLS_CREDENTIALS_H
#define QUIC_TLS_CREDENTIALS_H

#include "gnutls_tls.h"

#include <map>
#include <memory>
#include <string>
#include <tuple>

namespace ns3
{

class QuicTlsCredentials
{
  public:
    // The server name in the certificate, sent as SNI and checked.
    static constexpr const char* kServerName = "quicbed.ns3";
    // The ALPN protocol the sockets negotiate (RFC 9001 §8.1 requires one).
    static constexpr const char* kAlpn = "quicbed-ns3";

    // The process's credentials, made on first use.
    static QuicTlsCredentials& Get();

    // The configuration of a context for `role` writing its secrets to
    // `keylogFile` (NSS key log), with 0-RTT (RFC 9001 §4.6) when
    // `earlyData`: a server then accepts it, a client attempts it.
    quicbed::GnutlsTlsConfig Config(quicbed::Role role, const std::string& keylogFile, bool earlyData) const;
    // The shared context of that configuration, made on first use and
    // never freed before the program ends.
    const quicbed::GnutlsTlsContext& Context(quicbed::Role role, const std::string& keylogFile, bool earlyData);

    const std::string& CaFile() const
    {
        return m_caFile;
    }

  private:
    QuicTlsCredentials();
    ~QuicTlsCredentials();

    std::string m_dir;
    std::string m_caFile;
    std::string m_certFile;
    std::string m_keyFile;
    std::map<std::tuple<quicbed::Role, std::string, bool>, std::unique_ptr<quicbed::GnutlsTlsContext>> m_contexts;
};

} // namespace ns3

#endif
