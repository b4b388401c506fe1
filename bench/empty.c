/* The baseline preload library of P1: nothing in it. Comparing against it
 * rather than against no preload at all measures what dlguard adds beyond
 * the unavoidable cost of ld.so mapping one more object. (ISO C wants at
 * least one declaration in a translation unit.) */
typedef int bench_empty_unit;
