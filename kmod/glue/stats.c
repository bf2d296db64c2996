// SPDX-License-Identifier: GPL-2.0
/* /proc/net/quic (what the module has done, one "Name value" line per
 * counter) and the sysctls under net.quic, per network namespace as TCP's
 * and UDP's are: each namespace has its own counters, starting at 0, and
 * its own limits, starting at the defaults below (struct quic_net). */
#include <linux/proc_fs.h>
#include <linux/seq_file.h>
#include <linux/seq_file_net.h>
#include <linux/slab.h>
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
	[QUIC_STAT_EVENTS_DROPPED] = "EventsDropped",
};

unsigned int quic_net_id;

#define QUIC_DEFAULT_INITIAL_BACKLOG 64
#define QUIC_DEFAULT_MAX_EVENTS 64
static int quic_backlog_max = 4096, quic_events_max = 4096;

/* The template each namespace copies, .data pointed at its own values. */
static const struct ctl_table quic_sysctls[] = {
	{
		.procname = "initial_backlog",
		.maxlen = sizeof(int),
		.mode = 0644,
		.proc_handler = proc_dointvec_minmax,
		.extra1 = SYSCTL_ZERO,
		.extra2 = &quic_backlog_max,
	},
	{
		.procname = "max_events",
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

static int quic_stats_show(struct seq_file *seq, void *v)
{
	struct quic_net *qn = quic_net(seq_file_single_net(seq));
	int i;

	for (i = 0; i < QUIC_STAT_MAX; i++)
		seq_printf(seq, "%s %lld\n", quic_stat_names[i], atomic64_read(&qn->stats[i]));
	return 0;
}

static int quic_sysctl_register(struct net *net, struct quic_net *qn)
{
	qn->sysctl_table = kmemdup(quic_sysctls, sizeof(quic_sysctls), GFP_KERNEL);
	if (!qn->sysctl_table)
		return -ENOMEM;
	qn->sysctl_table[0].data = &qn->initial_backlog;
	qn->sysctl_table[1].data = &qn->max_events;
#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 11, 0)
	qn->sysctl = register_net_sysctl(net, "net/quic", qn->sysctl_table);
#else
	qn->sysctl = register_net_sysctl_sz(net, "net/quic", qn->sysctl_table, ARRAY_SIZE(quic_sysctls));
#endif
	if (!qn->sysctl) {
		kfree(qn->sysctl_table);
		return -ENOMEM;
	}
	return 0;
}

/* A namespace comes (every existing one at module load): its counters
 * (zeroed by the pernet core), limits, token key, /proc/net/quic and
 * sysctls. */
static int __net_init quic_net_init(struct net *net)
{
	struct quic_net *qn = quic_net(net);
	int err;

	qn->initial_backlog = QUIC_DEFAULT_INITIAL_BACKLOG;
	qn->max_events = QUIC_DEFAULT_MAX_EVENTS;
	err = quic_stateless_init(qn);
	if (err)
		return err;
	if (!proc_create_net_single("quic", 0444, net->proc_net, quic_stats_show, NULL)) {
		quic_stateless_exit(qn);
		return -ENOMEM;
	}
	err = quic_sysctl_register(net, qn);
	if (err) {
		remove_proc_entry("quic", net->proc_net);
		quic_stateless_exit(qn);
	}
	return err;
}

/* A namespace goes (every one at module unload). Its QUIC sockets, which
 * hold it (a user's) or belong to a kernel user who closed them first,
 * and their tunnels are gone by now. */
static void __net_exit quic_net_exit(struct net *net)
{
	struct quic_net *qn = quic_net(net);

	unregister_net_sysctl_table(qn->sysctl);
	kfree(qn->sysctl_table);
	remove_proc_entry("quic", net->proc_net);
	quic_stateless_exit(qn);
	WARN_ONCE(atomic64_read(&qn->stats[QUIC_STAT_SOCKETS]), "quic: a namespace went with %lld sockets\n",
		  atomic64_read(&qn->stats[QUIC_STAT_SOCKETS]));
}

static struct pernet_operations quic_net_ops = {
	.init = quic_net_init,
	.exit = quic_net_exit,
	.id = &quic_net_id,
	.size = sizeof(struct quic_net),
};

int quic_stats_init(void)
{
	return register_pernet_subsys(&quic_net_ops);
}

void quic_stats_exit(void)
{
	unregister_pernet_subsys(&quic_net_ops);
}
