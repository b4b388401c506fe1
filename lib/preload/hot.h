/* Where the statics that the engine's initialisation writes live. */
#ifndef DLGUARD_HOT_H
#define DLGUARD_HOT_H

/* The first write to a page is a page fault, and on a VM a fault costs as
 * much as ten system calls. The engine is loaded only by processes that
 * need it (engine.h), but then often at start-up (a start-up object without
 * a start-up verdict), so its initialisation keeps the same habits as the
 * front. One page of its data segment is written anyway: ld.so relocates
 * .data and zeroes the rest of the page where .data ends and .bss begins.
 * .data starts that page (RELRO ends on a page boundary) and is tiny, so
 * state placed in it costs no fault of its own, where each page of .bss it
 * touched would cost one. Keep it to the small fields every start writes
 * (the whole of .data must stay well below a page): anything large or
 * written only on rare paths belongs in .bss. */
#define PRELOAD_HOT __attribute__((section(".data.dlguard_hot")))

#endif
