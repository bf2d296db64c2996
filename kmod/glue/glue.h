/* SPDX-License-Identifier: GPL-2.0 */
/* What the glue files share among themselves (not the C++ side). */
#ifndef QUICBED_KMOD_GLUE_H
#define QUICBED_KMOD_GLUE_H

/* crypto.c: the long-lived HMAC transforms. */
int qbk_crypto_init(void);
void qbk_crypto_exit(void);

/* mem.c: blocks the core holds now (a leak check at unload). */
long qbk_blocks_in_use(void);

#endif
