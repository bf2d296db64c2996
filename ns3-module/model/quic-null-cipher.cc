#include "quic-null-cipher.h"

#include <cstring>
#include <new>

namespace ns3
{

namespace
{

// FNV-1a, 64 bits: cheap, and any changed byte changes it.
uint64_t
Fnv(uint64_t h, quicbed::Bytes b)
{
    for (uint8_t x : b)
    {
        h = (h ^ x) * 0x100000001b3ULL;
    }
    return h;
}

class NullAead final : public quicbed::Aead
{
  public:
    quicbed::Status seal(quicbed::Bytes nonce,
                         quicbed::Bytes aad,
                         quicbed::Bytes in,
                         quicbed::MutBytes out) override
    {
        if (out.size() != in.size() + quicbed::kAeadTagLen)
        {
            return quicbed::ErrorCode::kInvalidArgument;
        }
        if (in.size())
        {
            std::memmove(out.data(), in.data(), in.size());
        }
        Tag(nonce, aad, in, out.data() + in.size());
        return quicbed::Status();
    }

    quicbed::Status open(quicbed::Bytes nonce,
                         quicbed::Bytes aad,
                         quicbed::Bytes in,
                         quicbed::MutBytes out) override
    {
        if (in.size() < quicbed::kAeadTagLen || out.size() != in.size() - quicbed::kAeadTagLen)
        {
            return quicbed::ErrorCode::kDecryptFailed;
        }
        const quicbed::Bytes body = in.first(out.size());
        uint8_t tag[quicbed::kAeadTagLen];
        Tag(nonce, aad, body, tag);
        if (std::memcmp(tag, in.data() + body.size(), sizeof tag) != 0)
        {
            return quicbed::ErrorCode::kDecryptFailed;
        }
        if (body.size())
        {
            std::memmove(out.data(), body.data(), body.size());
        }
        return quicbed::Status();
    }

  private:
    static void Tag(quicbed::Bytes nonce, quicbed::Bytes aad, quicbed::Bytes body, uint8_t* tag)
    {
        uint64_t a = Fnv(Fnv(0xcbf29ce484222325ULL, nonce), aad);
        uint64_t b = Fnv(a, body);
        std::memcpy(tag, &a, 8);
        std::memcpy(tag + 8, &b, 8);
    }
};

// No header protection: the mask is all zeros (RFC 9001 §5.4 applied with
// nothing to hide).
class NullHeaderCipher final : public quicbed::HeaderCipher
{
  public:
    quicbed::Status mask(quicbed::Bytes, uint8_t out[5]) override
    {
        std::memset(out, 0, 5);
        return quicbed::Status();
    }
};

} // namespace

quicbed::Status
QuicNullCipherCrypto::hkdf_extract(quicbed::HashAlg h,
                                   quicbed::Bytes salt,
                                   quicbed::Bytes ikm,
                                   quicbed::MutBytes prk)
{
    return m_hkdf.hkdf_extract(h, salt, ikm, prk);
}

quicbed::Status
QuicNullCipherCrypto::hkdf_expand(quicbed::HashAlg h,
                                  quicbed::Bytes prk,
                                  quicbed::Bytes info,
                                  quicbed::MutBytes out)
{
    return m_hkdf.hkdf_expand(h, prk, info, out);
}

quicbed::Aead*
QuicNullCipherCrypto::new_aead(quicbed::CipherSuite, quicbed::Bytes)
{
    return new (std::nothrow) NullAead();
}

void
QuicNullCipherCrypto::free_aead(quicbed::Aead* a)
{
    delete static_cast<NullAead*>(a);
}

quicbed::HeaderCipher*
QuicNullCipherCrypto::new_header_cipher(quicbed::CipherSuite, quicbed::Bytes)
{
    return new (std::nothrow) NullHeaderCipher();
}

void
QuicNullCipherCrypto::free_header_cipher(quicbed::HeaderCipher* h)
{
    delete static_cast<NullHeaderCipher*>(h);
}

} // namespace ns3
