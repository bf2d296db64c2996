/* The one boundary between quic.ko's C glue and its C++ side.
 *
 * Kernel headers are C and the core is freestanding C++: the two never see
 * each other's headers. This file is valid C and valid freestanding C++ and
 * declares everything that crosses: what the glue provides to the C++ side
 * (memory, randomness, the kernel crypto API, logging), prefixed qbk_, and
 * what the C++ side provides to the glue, prefixed qb_. Only fixed-width
 * integers, size_t and opaque pointers cross; error returns are negative
 * errnos on the C side and are turned into Status values on the C++ side.
 */
#ifndef QUICBED_KMOD_BOUNDARY_H
#define QUICBED_KMOD_BOUNDARY_H

#ifdef __cplusplus
#include <cstddef>
#include <cstdint>
extern "C" {
#else
#include <linux/types.h>
#endif

/* ---- Provided by the C glue ------------------------------------------- */

/* Memory (glue/mem.c). Process context only: the module runs the core from
 * process context (socket calls and its work items), never from softirq.
 * Blocks come from kmalloc, or from vmalloc when large; qbk_free needs the
 * size qbk_alloc was given. */
void *qbk_alloc(size_t size, size_t align);
void qbk_free(void *p, size_t size);

/* Unpredictable bytes (get_random_bytes). */
void qbk_random(void *out, size_t len);

/* Logging to the kernel log: a broken invariant of the core (WARN, the
 * caller traps after it) and informational lines (pr_info). */
void qbk_bug(const char *file, int line, const char *expr);
void qbk_log(const char *msg);

/* The kernel crypto API (glue/crypto.c). Values of the enums below are
 * those of the core's CipherSuite and HashAlg. All calls may sleep. */
enum qbk_hash { QBK_SHA256 = 0, QBK_SHA384 = 1 };
enum qbk_suite {
  QBK_AES_128_GCM_SHA256 = 0x1301,
  QBK_AES_256_GCM_SHA384 = 0x1302,
  QBK_CHACHA20_POLY1305_SHA256 = 0x1303,
};

/* RFC 5869 HKDF over hmac(sha256)/hmac(sha384). 0 or a negative errno. */
int qbk_hkdf_extract(int hash, const uint8_t *salt, size_t salt_len, const uint8_t *ikm, size_t ikm_len,
                     uint8_t *prk, size_t prk_len);
int qbk_hkdf_expand(int hash, const uint8_t *prk, size_t prk_len, const uint8_t *info, size_t info_len,
                    uint8_t *out, size_t out_len);

/* An AEAD transform with its key: gcm(aes) or rfc7539(chacha20,poly1305).
 * NULL for an unknown suite, a bad key length or no memory. */
struct qbk_aead;
struct qbk_aead *qbk_aead_new(int suite, const uint8_t *key, size_t key_len);
void qbk_aead_free(struct qbk_aead *a);
/* out = ciphertext || 16-byte tag (seal) or plaintext (open); in and out
 * may be the same memory. The nonce is 12 bytes. open fails with -EBADMSG
 * when the tag does not authenticate. */
int qbk_aead_seal(struct qbk_aead *a, const uint8_t *nonce, const uint8_t *aad, size_t aad_len,
                  const uint8_t *in, size_t in_len, uint8_t *out);
int qbk_aead_open(struct qbk_aead *a, const uint8_t *nonce, const uint8_t *aad, size_t aad_len,
                  const uint8_t *in, size_t in_len, uint8_t *out);

/* A header protection cipher (RFC 9001 §5.4): ecb(aes) or chacha20. */
struct qbk_hp;
struct qbk_hp *qbk_hp_new(int suite, const uint8_t *key, size_t key_len);
void qbk_hp_free(struct qbk_hp *h);
/* mask = the first 5 bytes of the cipher applied to the 16-byte sample. */
int qbk_hp_mask(struct qbk_hp *h, const uint8_t *sample, uint8_t *mask);

/* ---- Provided by the C++ side ----------------------------------------- */

/* Known-answer tests of the kernel crypto backend through the core's key
 * schedule and packet protection (RFC 9001 Appendix A, RFC 4231). Logs one
 * line per test; returns the number of failed tests (0: all passed) and
 * the number run in *run. */
int qb_crypto_selftest(int *run);

#ifdef __cplusplus
}
#endif

#endif /* QUICBED_KMOD_BOUNDARY_H */
