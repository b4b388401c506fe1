/* The trusted plugin of the demo. */
const char *plugin_hello(void);
const char *plugin_hello(void)
{
	return "hello from a trusted plugin";
}
