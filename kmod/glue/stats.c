// SPDX-License-Identifier: GPL-2.0
/* /proc/net/quic (what the module has done, one "Name value" line per
 * counter) and the sysctls under net.quic, both in the initial network
 * namespace; the counters and limits are the module's, for every
 * namespace. */
#include <linux/proc_fs.h>
#include <linux/seq_file.h>
#include <linux/sysctl.h>
#include <linux/version.h>
#include <net/net_namespace.h>

#include "quic_sock.h"

static const char *const quic_stat_names[QUIC_STAT_MAX] = {
	[QUIC_STAT_SOCKETS] = "Sockets",
	[QUIC_STAT_CONNECTS] = "ConnectionsOpened",
	[QUIC_STAT_ACCEPTS] = "ConnectionsAccepted",
	[QUIC_STAT_ESTABLISHED] = "HandshakesCompleted",
	[QUIC_STAT_CLOSED] = "ConnectionsClosed",
	[QUIC_STAT_RX_DATAGRAMS] = "DatagramsReceived",
	[QUIC_STAT_TX_DATAGRAMS] = "DatagramsSent",
	[QUIC_STAT_RX_DROPPED] = "DatagramsDropped",
	[QUIC_STAT_INITIALS_REFUSED] = "InitialsRefused",
	[QUIC_STAT_CLOSING] = "ConnectionsClosing",
	[QUIC_STAT_VERSION_NEGOTIATIONS] = "VersionNegotiationsSent",
	[QUIC_STAT_RETRIES] = "RetriesSent",
	[QUIC_STAT_ZERO_RTT_RX] = "ZeroRttPacketsReceived",
	[QUIC_STAT_TOKENS_SENT] = "NewTokensSent",
	[QUIC_STAT_TOKENS_VALIDATED] = "TokensValidated",
	[QUIC_STAT_KEYLESS_DROPS] = "PacketsDroppedWithoutKeys",
	[QUIC_STAT_ONE_RTT_KEYLESS_DROPS] = "OneRttPacketsDroppedWithoutKeys",
};

atomic64_t quic_stats[QUIC_STAT_MAX];

/* net.quic.initial_backlog: datagrams from unknown peers waiting for a
 * port's listeners (tunnel.c); net.quic.max_events: events waiting on a
 * socket (event.c). */
int quic_sysctl_initial_backlog = 64;
int quic_sysctl_max_events = 64;
static int quic_backlog_max = 4096, quic_events_max = 4096;

static struct ctl_table quic_sysctls[] = {
	{
		.procname = "initial_backlog",
		.data = &quic_sysctl_initial_backlog,
		.maxlen = sizeof(int),
		.mode = 0644,
		.proc_handler = proc_dointvec_minmax,
		.extra1 = SYSCTL_ZERO,
		.extra2 = &quic_backlog_max,
	},
	{
		.procname = "max_events",
		.data = &quic_sysctl_max_events,
		.maxlen = sizeof(int),
		.mode = 0644,
		.proc_handler = proc_dointvec_minmax,
		.extra1 = SYSCTL_ONE,
		.extra2 = &quic_events_max,
	},
#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 11, 0)
	{}	/* the end, before tables carried their size */
#endif
};

static struct ctl_table_header *quic_sysctl_header;

static int quic_stats_show(struct seq_file *seq, void *v)
{
	int i;

	for (i = 0; i < QUIC_STAT_MAX; i++)
		seq_printf(seq, "%s %lld\n", quic_stat_names[i], atomic64_read(&quic_stats[i]));
	return 0;
}

int quic_stats_init(void)
{
	if (!proc_create_single("quic", 0444, init_net.proc_net, quic_stats_show))
		return -ENOMEM;
	quic_sysctl_header = register_net_sysctl(&init_net, "net/quic", quic_sysctls);
	if (!quic_sysctl_header) {
		remove_proc_entry("quic", init_net.proc_net);
		return -ENOMEM;
	}
	return 0;
}

void quic_stats_exit(void)
{
	unregister_net_sysctl_table(quic_sysctl_header);
	remove_proc_entry("quic", init_net.proc_net);
}
