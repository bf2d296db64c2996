// Certificates for tests that run real TLS handshakes: a CA and a server
// certificate for "localhost", made in-process (nothing on disk expires)
// and written as PEM files into a temporary directory that lives as long
// as the TestCerts object. The server's file holds the chain, leaf and CA,
// as deployed servers send it; QUIC handshakes then need more than one
// datagram per flight.
#pragma once

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <gtest/gtest.h>
#include <stdlib.h>

#include <ctime>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace quicbed::test {

class TestCerts {
 public:
  // `intermediates` CAs between the root and the server certificate make
  // the chain, and so the server's first flight, that much heavier (the
  // amplification tests need one beyond three client Initials).
  explicit TestCerts(int intermediates = 0) {
    char tmpl[] = "/tmp/quicbed-certs-XXXXXX";
    if (!mkdtemp(tmpl)) {
      ADD_FAILURE() << "mkdtemp";
      return;
    }
    dir_ = tmpl;
    std::vector<Key> keys(intermediates + 2);
    std::vector<Cert> certs(intermediates + 2);
    make(certs[0], keys[0], "CN=quicbed test CA", nullptr, nullptr, 1, true);
    for (int i = 1; i <= intermediates; ++i) {
      const std::string dn = "CN=quicbed test intermediate " + std::to_string(i);
      make(certs[i], keys[i], dn.c_str(), &certs[i - 1], &keys[i - 1], static_cast<uint8_t>(i + 2), true);
    }
    const size_t leaf = certs.size() - 1;
    make(certs[leaf], keys[leaf], "CN=localhost", &certs[leaf - 1], &keys[leaf - 1], 2, false);
    save(ca_file(), export_crt(certs[0].crt));
    std::string chain;
    for (size_t i = leaf + 1; i-- > 0;) chain += export_crt(certs[i].crt);
    save(cert_file(), chain);
    save(key_file(), export_key(keys[leaf].key));
  }
  ~TestCerts() {
    if (!dir_.empty()) std::filesystem::remove_all(dir_);
  }
  TestCerts(const TestCerts&) = delete;
  TestCerts& operator=(const TestCerts&) = delete;

  std::string ca_file() const { return dir_ + "/ca.pem"; }
  std::string cert_file() const { return dir_ + "/server.pem"; }
  std::string key_file() const { return dir_ + "/server.key"; }

 private:
  struct Key {
    gnutls_x509_privkey_t key = nullptr;
    ~Key() {
      if (key) gnutls_x509_privkey_deinit(key);
    }
  };
  struct Cert {
    gnutls_x509_crt_t crt = nullptr;
    ~Cert() {
      if (crt) gnutls_x509_crt_deinit(crt);
    }
  };

  // ECDSA P-256, valid from an hour ago for a day. Self-signed when issuer
  // is null; a CA, or a server certificate for "localhost".
  static void make(Cert& c, Key& k, const char* dn, const Cert* issuer, const Key* issuer_key, uint8_t serial,
                   bool ca) {
    ASSERT_GE(gnutls_x509_privkey_init(&k.key), 0);
    ASSERT_GE(gnutls_x509_privkey_generate(k.key, GNUTLS_PK_ECDSA, GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1), 0),
              0);
    ASSERT_GE(gnutls_x509_crt_init(&c.crt), 0);
    ASSERT_GE(gnutls_x509_crt_set_version(c.crt, 3), 0);
    ASSERT_GE(gnutls_x509_crt_set_serial(c.crt, &serial, 1), 0);
    const time_t now = time(nullptr);
    ASSERT_GE(gnutls_x509_crt_set_activation_time(c.crt, now - 3600), 0);
    ASSERT_GE(gnutls_x509_crt_set_expiration_time(c.crt, now + 86400), 0);
    ASSERT_GE(gnutls_x509_crt_set_dn(c.crt, dn, nullptr), 0);
    ASSERT_GE(gnutls_x509_crt_set_key(c.crt, k.key), 0);
    ASSERT_GE(gnutls_x509_crt_set_basic_constraints(c.crt, ca ? 1 : 0, -1), 0);
    if (ca) {
      ASSERT_GE(gnutls_x509_crt_set_key_usage(c.crt, GNUTLS_KEY_KEY_CERT_SIGN), 0);
    } else {
      ASSERT_GE(gnutls_x509_crt_set_key_usage(c.crt, GNUTLS_KEY_DIGITAL_SIGNATURE), 0);
      ASSERT_GE(gnutls_x509_crt_set_key_purpose_oid(c.crt, GNUTLS_KP_TLS_WWW_SERVER, 0), 0);
      ASSERT_GE(gnutls_x509_crt_set_subject_alt_name(c.crt, GNUTLS_SAN_DNSNAME, "localhost", 9, GNUTLS_FSAN_SET), 0);
    }
    unsigned char id[64];
    size_t id_len = sizeof id;
    ASSERT_GE(gnutls_x509_crt_get_key_id(c.crt, 0, id, &id_len), 0);
    ASSERT_GE(gnutls_x509_crt_set_subject_key_id(c.crt, id, id_len), 0);
    const Cert& signer = issuer ? *issuer : c;
    const Key& signer_key = issuer_key ? *issuer_key : k;
    id_len = sizeof id;
    ASSERT_GE(gnutls_x509_crt_get_key_id(signer.crt, 0, id, &id_len), 0);
    ASSERT_GE(gnutls_x509_crt_set_authority_key_id(c.crt, id, id_len), 0);
    ASSERT_GE(gnutls_x509_crt_sign2(c.crt, signer.crt, signer_key.key, GNUTLS_DIG_SHA256, 0), 0);
  }

  static std::string take(gnutls_datum_t& d) {
    std::string s(reinterpret_cast<char*>(d.data), d.size);
    gnutls_free(d.data);
    return s;
  }
  static std::string export_crt(gnutls_x509_crt_t crt) {
    gnutls_datum_t d{};
    EXPECT_GE(gnutls_x509_crt_export2(crt, GNUTLS_X509_FMT_PEM, &d), 0);
    return take(d);
  }
  static std::string export_key(gnutls_x509_privkey_t key) {
    gnutls_datum_t d{};
    EXPECT_GE(gnutls_x509_privkey_export2(key, GNUTLS_X509_FMT_PEM, &d), 0);
    return take(d);
  }
  static void save(const std::string& path, const std::string& content) {
    std::ofstream(path, std::ios::binary) << content;
  }

  std::string dir_;
};

}  // namespace quicbed::test
