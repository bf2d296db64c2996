// SPDX-License-Identifier: GPL-2.0
/* Memory for the core (boundary.h): kmalloc, or vmalloc for large blocks,
 * with a count of the blocks in use so that unloading the module can tell a
 * leak. */
#include <linux/atomic.h>
#include <linux/log2.h>
#include <linux/mm.h>
#include <linux/slab.h>

#include "../boundary.h"
#include "glue.h"

static atomic_long_t qbk_blocks = ATOMIC_LONG_INIT(0);

/* kmalloc aligns power-of-two sizes naturally; other sizes only to
 * ARCH_KMALLOC_MINALIGN. vmalloc'ed blocks are page aligned. */
static size_t qbk_block_size(size_t size, size_t align)
{
	if (align > ARCH_KMALLOC_MINALIGN && size <= PAGE_SIZE)
		return roundup_pow_of_two(max(size, align));
	return size ? size : 1;
}

void *qbk_alloc(size_t size, size_t align)
{
	size_t n;
	void *p;

	if (align > PAGE_SIZE || size > INT_MAX)
		return NULL;
	n = qbk_block_size(size, align);
	p = kvmalloc(n, GFP_KERNEL | __GFP_NOWARN);
	if (p)
		atomic_long_inc(&qbk_blocks);
	return p;
}

void qbk_free(void *p, size_t size)
{
	if (!p)
		return;
	atomic_long_dec(&qbk_blocks);
	kvfree(p);
}

long qbk_blocks_in_use(void)
{
	return atomic_long_read(&qbk_blocks);
}
