#include "quic-tls-credentials.h"

#include "ns3/fatal-error.h"

#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <gnutls/x509.h>

namespace ns3
{

namespace
{

void
Check(int rc, const char* what)
{
    if (rc < 0)
    {
        NS_FATAL_ERROR("QUIC test credentials: " << what << ": " << gnutls_strerror(rc));
    }
}

// A key and a certificate, freed on scope exit.
struct Credential
{
    gnutls_x509_privkey_t key = nullptr;
    gnutls_x509_crt_t crt = nullptr;

    ~Credential()
    {
        if (crt)
        {
            gnutls_x509_crt_deinit(crt);
        }
        if (key)
        {
            gnutls_x509_privkey_deinit(key);
        }
    }
};

// An Ed25519 key and its certificate: the CA's (self-signed) when `issuer`
// is null, else a server certificate for kServerName signed by `issuer`.
// Valid from a day before now for ten years: simulations run at any time.
void
MakeCredential(Credential& c, const char* dn, const Credential* issuer, unsigned char serial)
{
    const bool ca = issuer == nullptr;
    Check(gnutls_x509_privkey_init(&c.key), "key init");
    Check(gnutls_x509_privkey_generate(c.key, GNUTLS_PK_EDDSA_ED25519, 0, 0), "key generation");
    Check(gnutls_x509_crt_init(&c.crt), "certificate init");
    Check(gnutls_x509_crt_set_version(c.crt, 3), "version");
    Check(gnutls_x509_crt_set_serial(c.crt, &serial, 1), "serial");
    const time_t now = time(nullptr);
    Check(gnutls_x509_crt_set_activation_time(c.crt, now - 86400), "activation time");
    Check(gnutls_x509_crt_set_expiration_time(c.crt, now + 10 * 365 * 86400L), "expiration time");
    Check(gnutls_x509_crt_set_dn(c.crt, dn, nullptr), "subject");
    Check(gnutls_x509_crt_set_key(c.crt, c.key), "public key");
    Check(gnutls_x509_crt_set_basic_constraints(c.crt, ca ? 1 : 0, -1), "basic constraints");
    if (ca)
    {
        Check(gnutls_x509_crt_set_key_usage(c.crt, GNUTLS_KEY_KEY_CERT_SIGN), "key usage");
    }
    else
    {
        Check(gnutls_x509_crt_set_key_usage(c.crt, GNUTLS_KEY_DIGITAL_SIGNATURE), "key usage");
        Check(gnutls_x509_crt_set_key_purpose_oid(c.crt, GNUTLS_KP_TLS_WWW_SERVER, 0), "key purpose");
        const std::string name = QuicTlsCredentials::kServerName;
        Check(gnutls_x509_crt_set_subject_alt_name(c.crt, GNUTLS_SAN_DNSNAME, name.data(), name.size(),
                                                   GNUTLS_FSAN_SET),
              "subject alt name");
    }
    const Credential& signer = ca ? c : *issuer;
    Check(gnutls_x509_crt_sign2(c.crt, signer.crt, signer.key, GNUTLS_DIG_UNKNOWN, 0), "signature");
}

std::string
Pem(int rc, gnutls_datum_t& d, const char* what)
{
    Check(rc, what);
    std::string s(reinterpret_cast<char*>(d.data), d.size);
    gnutls_free(d.data);
    return s;
}

std::string
CrtPem(gnutls_x509_crt_t crt)
{
    gnutls_datum_t d{};
    return Pem(gnutls_x509_crt_export2(crt, GNUTLS_X509_FMT_PEM, &d), d, "certificate export");
}

void
Save(const std::string& path, const std::string& content)
{
    std::ofstream out(path, std::ios::binary);
    out << content;
    if (!out)
    {
        NS_FATAL_ERROR("QUIC test credentials: cannot write " << path);
    }
}

} // namespace

QuicTlsCredentials&
QuicTlsCredentials::Get()
{
    static QuicTlsCredentials credentials;
    return credentials;
}

QuicTlsCredentials::QuicTlsCredentials()
{
    std::string tmpl = (std::filesystem::temp_directory_path() / "quicbed-ns3-XXXXXX").string();
    if (!mkdtemp(tmpl.data()))
    {
        NS_FATAL_ERROR("QUIC test credentials: cannot create a temporary directory");
    }
    m_dir = tmpl;
    m_caFile = m_dir + "/ca.pem";
    m_certFile = m_dir + "/server.pem";
    m_keyFile = m_dir + "/server.key";
    Credential ca;
    Credential server;
    MakeCredential(ca, "CN=quicbed ns-3 CA", nullptr, 1);
    MakeCredential(server, (std::string("CN=") + kServerName).c_str(), &ca, 2);
    Save(m_caFile, CrtPem(ca.crt));
    Save(m_certFile, CrtPem(server.crt) + CrtPem(ca.crt));
    gnutls_datum_t d{};
    Save(m_keyFile, Pem(gnutls_x509_privkey_export2_pkcs8(server.key, GNUTLS_X509_FMT_PEM, nullptr, GNUTLS_PKCS_PLAIN, &d), d, "key export"));
}

QuicTlsCredentials::~QuicTlsCredentials()
{
    std::error_code ec;
    std::filesystem::remove_all(m_dir, ec);
}

quicbed::GnutlsTlsConfig
QuicTlsCredentials::Config(quicbed::Role role, const std::string& keylogFile, bool earlyData) const
{
    quicbed::GnutlsTlsConfig config;
    config.role = role;
    config.alpn = {kAlpn};
    // Empty: $SSLKEYLOGFILE when set (GnutlsTlsConfig), else none.
    config.keylog_file = keylogFile;
    config.early_data = earlyData;
    if (role == quicbed::Role::kClient)
    {
        config.server_name = kServerName;
        config.ca_file = m_caFile;
    }
    else
    {
        config.cert_file = m_certFile;
        config.key_file = m_keyFile;
    }
    return config;
}

const quicbed::GnutlsTlsContext&
QuicTlsCredentials::Context(quicbed::Role role, const std::string& keylogFile, bool earlyData)
{
    auto& slot = m_contexts[{role, keylogFile, earlyData}];
    if (!slot)
    {
        auto ctx = quicbed::GnutlsTlsContext::create(Config(role, keylogFile, earlyData));
        if (!ctx.is_ok())
        {
            NS_FATAL_ERROR("QUIC TLS context: " << ctx.status().reason());
        }
        slot = std::move(ctx).value();
    }
    return *slot;
}

} // namespace ns3
