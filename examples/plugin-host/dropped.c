/* The demo's "dropped" plugin: what an attacker leaves in a writable
 * directory. Its constructor announces itself, so the demo shows it never ran. */
#include <stdio.h>

__attribute__((constructor)) static void announce(void)
{
	fputs("!!! dropped.so constructor ran: untrusted code executed\n", stderr);
}

const char *plugin_hello(void);
const char *plugin_hello(void)
{
	return "untrusted code";
}
