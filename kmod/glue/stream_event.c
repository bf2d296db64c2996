// SPDX-License-Identifier: GPL-2.0
/* The stream and key events of draft-lxin-quic-socket-apis ("QUIC
 * Notification Structure"): what the connection reported (boundary.h,
 * qb_conn_next_event) becomes QUIC_EVENT_STREAM_UPDATE (a stream's data all
 * acknowledged, reset on the peer's STOP_SENDING, our reset acknowledged;
 * the peer's first data with its end to come, the peer's FIN before all
 * its data, all its data received),
 * QUIC_EVENT_STREAM_MAX_DATA (MAX_STREAM_DATA), QUIC_EVENT_STREAM_MAX_STREAM
 * (MAX_STREAMS) and QUIC_EVENT_KEY_UPDATE (both ends in the new key phase),
 * queued for recvmsg when the process turned the type on (event.c). The
 * connection's own queue of them is bounded too (QB_MAX_EVENTS between two
 * runs): what it lost counts in EventsDropped as well, whatever its type. */
#include <net/sock.h>

#include "../boundary.h"
#include "quic_sock.h"

void quic_conn_events(struct sock *sk)
{
	struct quic_sock *qs = quic_sk(sk);
	struct qb_event e;
	u64 lost = qb_conn_events_lost(qs->conn);

	while (qb_conn_next_event(qs->conn, &e)) {
		switch (e.kind) {
		case QB_EV_STREAM_STATE: {
			struct quic_stream_update ev = { .id = e.id, .state = e.state, .errcode = e.code,
							 .finalsz = e.value };

			quic_event_push(qs, QUIC_EVENT_STREAM_UPDATE, &ev, sizeof(ev), NULL, 0);
			break;
		}
		case QB_EV_MAX_DATA: {
			struct quic_stream_max_data ev = { .id = e.id, .max_data = e.value };

			quic_event_push(qs, QUIC_EVENT_STREAM_MAX_DATA, &ev, sizeof(ev), NULL, 0);
			break;
		}
		case QB_EV_MAX_STREAMS: {
			u64 max_stream = e.value;

			quic_event_push(qs, QUIC_EVENT_STREAM_MAX_STREAM, &max_stream, sizeof(max_stream), NULL, 0);
			break;
		}
		case QB_EV_KEY_UPDATE: {
			u8 phase = e.value;

			quic_event_push(qs, QUIC_EVENT_KEY_UPDATE, &phase, sizeof(phase), NULL, 0);
			break;
		}
		}
	}
	if (lost != qs->events_lost) {
		quic_stat_add(sock_net(sk), QUIC_STAT_EVENTS_DROPPED, lost - qs->events_lost);
		qs->events_lost = lost;
	}
}
