// SPDX-License-Identifier: GPL-2.0
/* quic.ko: module life, and the host hooks the core calls for randomness
 * and logging. */
#include <linux/bug.h>
#include <linux/init.h>
#include <linux/kernel.h>
#include <linux/module.h>
#include <linux/random.h>

#include "../boundary.h"
#include "glue.h"
#include "quic_sock.h"

static bool selftest;
module_param(selftest, bool, 0444);
MODULE_PARM_DESC(selftest, "Run the crypto known-answer tests at load and refuse to load if one fails");

void qbk_random(void *out, size_t len)
{
	get_random_bytes(out, len);
}

void qbk_bug(const char *file, int line, const char *expr)
{
	WARN(1, "quic: invariant broken at %s:%d: %s\n", file, line, expr);
}

void qbk_log(const char *msg)
{
	pr_info("quic: %s\n", msg);
}

static int __init quic_init(void)
{
	int err = qbk_crypto_init();

	if (err)
		return err;
	if (selftest) {
		int run = 0, failed = qb_crypto_selftest(&run);

		pr_info("quic: crypto selftest: %d of %d passed\n", run - failed, run);
		if (failed) {
			qbk_crypto_exit();
			return -EINVAL;
		}
	}
	err = quic_stats_init();
	if (err) {
		qbk_crypto_exit();
		return err;
	}
	err = quic_closing_init();
	if (!err) {
		err = quic_socket_init();
		if (err)
			quic_closing_exit();
	}
	if (err) {
		quic_stats_exit();
		qbk_crypto_exit();
		return err;
	}
	pr_info("quic: loaded\n");
	return 0;
}

static void __exit quic_exit(void)
{
	long blocks;

	quic_socket_exit();
	quic_closing_exit();
	quic_stats_exit();
	qbk_crypto_exit();
	blocks = qbk_blocks_in_use();
	if (blocks)
		pr_err("quic: %ld memory blocks leaked\n", blocks);
	pr_info("quic: unloaded\n");
}

module_init(quic_init);
module_exit(quic_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("QUIC (RFC 9000) sockets: IPPROTO_QUIC");
MODULE_ALIAS("net-pf-2-proto-261");
MODULE_ALIAS("net-pf-10-proto-261");
