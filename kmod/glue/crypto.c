// SPDX-License-Identifier: GPL-2.0
/* The core's cipher primitives on the kernel crypto API (boundary.h):
 * HKDF (RFC 5869) over hmac(sha256)/hmac(sha384), the AEADs of RFC 9001
 * §5.3 as gcm(aes) and rfc7539(chacha20,poly1305), and header protection
 * (§5.4.3, §5.4.4) as one AES block (the AES library) and chacha20.
 *
 * Scatterlists need linearly mapped memory; the core may hand in buffers
 * from vmalloc or the (virtually mapped) stack, which are bounced through a
 * kmalloc'ed copy. Every call may sleep (process context only). */
#include <crypto/aead.h>
#include <crypto/aes.h>
#include <crypto/hash.h>
#include <crypto/skcipher.h>
#include <linux/err.h>
#include <linux/mm.h>
#include <linux/mutex.h>
#include <linux/scatterlist.h>
#include <linux/sched/task_stack.h>
#include <linux/slab.h>
#include <linux/string.h>

#include "../boundary.h"
#include "glue.h"

#define QBK_TAG_LEN 16
#define QBK_NONCE_LEN 12
#define QBK_SAMPLE_LEN 16
#define QBK_MASK_LEN 5
#define QBK_MAX_HASH 48

/* ---- HKDF ----------------------------------------------------------------
 * One HMAC transform per hash for the module's lifetime; setting the key
 * changes the transform, so calls take the mutex. */
static struct crypto_shash *qbk_hmac[2];
static DEFINE_MUTEX(qbk_hmac_lock);

static struct crypto_shash *qbk_hmac_of(int hash)
{
	if (hash != QBK_SHA256 && hash != QBK_SHA384)
		return NULL;
	return qbk_hmac[hash];
}

int qbk_hkdf_extract(int hash, const uint8_t *salt, size_t salt_len, const uint8_t *ikm, size_t ikm_len,
		     uint8_t *prk, size_t prk_len)
{
	struct crypto_shash *tfm = qbk_hmac_of(hash);
	static const uint8_t zeros[QBK_MAX_HASH];
	int err;

	if (!tfm || prk_len != crypto_shash_digestsize(tfm))
		return -EINVAL;
	/* RFC 5869 §2.2: an absent salt is HashLen zeros. */
	if (!salt_len) {
		salt = zeros;
		salt_len = prk_len;
	}
	mutex_lock(&qbk_hmac_lock);
	err = crypto_shash_setkey(tfm, salt, salt_len);
	if (!err)
		err = crypto_shash_tfm_digest(tfm, ikm, ikm_len, prk);
	mutex_unlock(&qbk_hmac_lock);
	return err;
}

int qbk_hkdf_expand(int hash, const uint8_t *prk, size_t prk_len, const uint8_t *info, size_t info_len,
		    uint8_t *out, size_t out_len)
{
	struct crypto_shash *tfm = qbk_hmac_of(hash);
	uint8_t t[QBK_MAX_HASH];
	size_t hlen, done = 0, n;
	uint8_t counter = 0;
	int err;

	if (!tfm)
		return -EINVAL;
	hlen = crypto_shash_digestsize(tfm);
	/* RFC 5869 §2.3: L <= 255 * HashLen. */
	if (out_len > 255 * hlen)
		return -EINVAL;
	mutex_lock(&qbk_hmac_lock);
	err = crypto_shash_setkey(tfm, prk, prk_len);
	while (!err && done < out_len) {
		SHASH_DESC_ON_STACK(desc, tfm);

		desc->tfm = tfm;
		counter++;
		/* T(i) = HMAC(PRK, T(i-1) | info | i) */
		err = crypto_shash_init(desc);
		if (!err && counter > 1)
			err = crypto_shash_update(desc, t, hlen);
		if (!err)
			err = crypto_shash_update(desc, info, info_len);
		if (!err)
			err = crypto_shash_finup(desc, &counter, 1, t);
		shash_desc_zero(desc);
		if (err)
			break;
		n = min(hlen, out_len - done);
		memcpy(out + done, t, n);
		done += n;
	}
	mutex_unlock(&qbk_hmac_lock);
	memzero_explicit(t, sizeof(t));
	return err;
}

/* ---- Memory scatterlists can describe ------------------------------------ */

static bool qbk_linear(const void *p, size_t len)
{
	return !len || (!is_vmalloc_addr(p) && !object_is_on_stack(p) && virt_addr_valid(p));
}

/* ---- AEAD ---------------------------------------------------------------- */

struct qbk_aead {
	struct crypto_aead *tfm;
	struct aead_request *req;
	uint8_t nonce[QBK_NONCE_LEN];
};

static const char *qbk_aead_name(int suite, size_t key_len)
{
	switch (suite) {
	case QBK_AES_128_GCM_SHA256:
		return key_len == 16 ? "gcm(aes)" : NULL;
	case QBK_AES_256_GCM_SHA384:
		return key_len == 32 ? "gcm(aes)" : NULL;
	case QBK_CHACHA20_POLY1305_SHA256:
		return key_len == 32 ? "rfc7539(chacha20,poly1305)" : NULL;
	}
	return NULL;
}

struct qbk_aead *qbk_aead_new(int suite, const uint8_t *key, size_t key_len)
{
	const char *name = qbk_aead_name(suite, key_len);
	struct qbk_aead *a;

	if (!name)
		return NULL;
	a = kzalloc(sizeof(*a), GFP_KERNEL);
	if (!a)
		return NULL;
	a->tfm = crypto_alloc_aead(name, 0, 0);
	if (IS_ERR(a->tfm)) {
		pr_warn_once("quic: no %s transform (%ld)\n", name, PTR_ERR(a->tfm));
		a->tfm = NULL;
		goto fail;
	}
	if (crypto_aead_setkey(a->tfm, key, key_len) || crypto_aead_setauthsize(a->tfm, QBK_TAG_LEN) ||
	    crypto_aead_ivsize(a->tfm) != QBK_NONCE_LEN)
		goto fail;
	a->req = aead_request_alloc(a->tfm, GFP_KERNEL);
	if (!a->req)
		goto fail;
	return a;
fail:
	qbk_aead_free(a);
	return NULL;
}

void qbk_aead_free(struct qbk_aead *a)
{
	if (!a)
		return;
	aead_request_free(a->req);
	if (a->tfm)
		crypto_free_aead(a->tfm);
	kfree_sensitive(a);
}

/* A scatterlist of aad (when any) then data. */
static struct scatterlist *qbk_sg(struct scatterlist sg[2], const uint8_t *aad, size_t aad_len, const void *data,
				  size_t len)
{
	if (!aad_len) {
		sg_init_one(sg, data, len);
		return sg;
	}
	sg_init_table(sg, 2);
	sg_set_buf(&sg[0], aad, aad_len);
	sg_set_buf(&sg[1], data, len);
	return sg;
}

/* One AEAD operation. `in` (in_len bytes, tag included when opening) and
 * `out` (out_len bytes) are linear, or the same memory. */
static int qbk_aead_run(struct qbk_aead *a, bool seal, const uint8_t *nonce, const uint8_t *aad, size_t aad_len,
			const uint8_t *in, size_t in_len, uint8_t *out, size_t out_len)
{
	struct scatterlist sg_in[2], sg_out[2], *src, *dst;
	DECLARE_CRYPTO_WAIT(wait);

	memcpy(a->nonce, nonce, QBK_NONCE_LEN);
	if (in == out) {
		src = qbk_sg(sg_in, aad, aad_len, in, max(in_len, out_len));
		dst = src;
	} else {
		/* The AEADs skip the associated data in the destination. */
		src = qbk_sg(sg_in, aad, aad_len, in, in_len);
		dst = qbk_sg(sg_out, aad, aad_len, out, out_len);
	}
	aead_request_set_callback(a->req, CRYPTO_TFM_REQ_MAY_BACKLOG | CRYPTO_TFM_REQ_MAY_SLEEP, crypto_req_done,
				  &wait);
	aead_request_set_ad(a->req, aad_len);
	aead_request_set_crypt(a->req, src, dst, in_len, a->nonce);
	return crypto_wait_req(seal ? crypto_aead_encrypt(a->req) : crypto_aead_decrypt(a->req), &wait);
}

/* The operation through one kmalloc'ed buffer, aad || data || tag, for
 * buffers a scatterlist cannot describe. */
static int qbk_aead_bounced(struct qbk_aead *a, bool seal, const uint8_t *nonce, const uint8_t *aad,
			    size_t aad_len, const uint8_t *in, size_t in_len, uint8_t *out, size_t out_len)
{
	size_t n = aad_len + max(in_len, out_len);
	uint8_t *buf = kmalloc(n ? n : 1, GFP_KERNEL);
	int err;

	if (!buf)
		return -ENOMEM;
	memcpy(buf, aad, aad_len);
	memcpy(buf + aad_len, in, in_len);
	err = qbk_aead_run(a, seal, nonce, buf, aad_len, buf + aad_len, in_len, buf + aad_len, out_len);
	if (!err)
		memcpy(out, buf + aad_len, out_len);
	kfree_sensitive(buf);
	return err;
}

static int qbk_aead_op(struct qbk_aead *a, bool seal, const uint8_t *nonce, const uint8_t *aad, size_t aad_len,
		       const uint8_t *in, size_t in_len, uint8_t *out)
{
	size_t out_len;

	if (!seal && in_len < QBK_TAG_LEN)
		return -EBADMSG;
	out_len = seal ? in_len + QBK_TAG_LEN : in_len - QBK_TAG_LEN;
	/* Sealing nothing (a Retry tag, RFC 9001 §5.8) works in place on the
	 * tag's room, so no scatterlist entry points at an empty input. */
	if (!in_len)
		in = out;
	/* Partly overlapping buffers go through a copy, like unmapped ones. */
	if ((in == out || out >= in + in_len || in >= out + out_len) && qbk_linear(aad, aad_len) &&
	    qbk_linear(in, in_len) && qbk_linear(out, out_len))
		return qbk_aead_run(a, seal, nonce, aad, aad_len, in, in_len, out, out_len);
	return qbk_aead_bounced(a, seal, nonce, aad, aad_len, in, in_len, out, out_len);
}

int qbk_aead_seal(struct qbk_aead *a, const uint8_t *nonce, const uint8_t *aad, size_t aad_len,
		  const uint8_t *in, size_t in_len, uint8_t *out)
{
	return qbk_aead_op(a, true, nonce, aad, aad_len, in, in_len, out);
}

int qbk_aead_open(struct qbk_aead *a, const uint8_t *nonce, const uint8_t *aad, size_t aad_len,
		  const uint8_t *in, size_t in_len, uint8_t *out)
{
	return qbk_aead_op(a, false, nonce, aad, aad_len, in, in_len, out);
}

/* ---- Header protection ---------------------------------------------------- */

/* AES: one block per packet through the AES library, no transform or
 * scatterlist (the skcipher path costs more than the block). ChaCha20:
 * an skcipher request made once. */
struct qbk_hp {
	struct crypto_aes_ctx aes;
	struct crypto_skcipher *tfm;
	struct skcipher_request *req;
	bool chacha;
	/* kmalloc'ed with the struct, so scatterlists may point here. */
	uint8_t block[QBK_SAMPLE_LEN];
	uint8_t iv[QBK_SAMPLE_LEN];
};

struct qbk_hp *qbk_hp_new(int suite, const uint8_t *key, size_t key_len)
{
	const char *name = "chacha20";
	struct qbk_hp *h;

	if (suite == QBK_AES_128_GCM_SHA256 || suite == QBK_AES_256_GCM_SHA384) {
		if (key_len != (suite == QBK_AES_128_GCM_SHA256 ? 16 : 32))
			return NULL;
		h = kzalloc(sizeof(*h), GFP_KERNEL);
		if (h && aes_expandkey(&h->aes, key, key_len)) {
			kfree_sensitive(h);
			h = NULL;
		}
		return h;
	}
	if (suite != QBK_CHACHA20_POLY1305_SHA256 || key_len != 32)
		return NULL;
	h = kzalloc(sizeof(*h), GFP_KERNEL);
	if (!h)
		return NULL;
	h->chacha = true;
	h->tfm = crypto_alloc_skcipher(name, 0, 0);
	if (IS_ERR(h->tfm)) {
		pr_warn_once("quic: no %s transform (%ld)\n", name, PTR_ERR(h->tfm));
		h->tfm = NULL;
		goto fail;
	}
	if (crypto_skcipher_setkey(h->tfm, key, key_len))
		goto fail;
	h->req = skcipher_request_alloc(h->tfm, GFP_KERNEL);
	if (!h->req)
		goto fail;
	return h;
fail:
	qbk_hp_free(h);
	return NULL;
}

void qbk_hp_free(struct qbk_hp *h)
{
	if (!h)
		return;
	skcipher_request_free(h->req);
	if (h->tfm)
		crypto_free_skcipher(h->tfm);
	kfree_sensitive(h);
}

int qbk_hp_mask(struct qbk_hp *h, const uint8_t *sample, uint8_t *mask)
{
	struct scatterlist sg;
	DECLARE_CRYPTO_WAIT(wait);
	size_t len;
	int err;

	if (!h->chacha) {
		/* §5.4.3: mask = AES-ECB(hp_key, sample). */
		aes_encrypt(&h->aes, h->block, sample);
		memcpy(mask, h->block, QBK_MASK_LEN);
		return 0;
	}
	/* RFC 9001 §5.4.4: counter = sample[0..3] (little endian), nonce =
	 * sample[4..15], which is the kernel's chacha20 IV layout; the mask is
	 * ChaCha20 applied to five zero bytes. */
	memcpy(h->iv, sample, QBK_SAMPLE_LEN);
	memset(h->block, 0, QBK_MASK_LEN);
	len = QBK_MASK_LEN;
	sg_init_one(&sg, h->block, len);
	skcipher_request_set_callback(h->req, CRYPTO_TFM_REQ_MAY_BACKLOG | CRYPTO_TFM_REQ_MAY_SLEEP,
				      crypto_req_done, &wait);
	skcipher_request_set_crypt(h->req, &sg, &sg, len, h->iv);
	err = crypto_wait_req(crypto_skcipher_encrypt(h->req), &wait);
	if (!err)
		memcpy(mask, h->block, QBK_MASK_LEN);
	return err;
}

/* ---- Module life ----------------------------------------------------------- */

int qbk_crypto_init(void)
{
	static const char *const names[] = { "hmac(sha256)", "hmac(sha384)" };
	int i;

	for (i = 0; i < ARRAY_SIZE(names); i++) {
		struct crypto_shash *tfm = crypto_alloc_shash(names[i], 0, 0);

		if (IS_ERR(tfm)) {
			pr_err("quic: no %s transform (%ld)\n", names[i], PTR_ERR(tfm));
			qbk_crypto_exit();
			return PTR_ERR(tfm);
		}
		qbk_hmac[i] = tfm;
	}
	return 0;
}

void qbk_crypto_exit(void)
{
	int i;

	for (i = 0; i < ARRAY_SIZE(qbk_hmac); i++) {
		if (qbk_hmac[i])
			crypto_free_shash(qbk_hmac[i]);
		qbk_hmac[i] = NULL;
	}
}
