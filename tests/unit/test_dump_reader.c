/*
 * test_dump_reader.c
 *	  Unit tests of loader/dump_reader: prints "ok - ..." / "not ok - ..." lines
 *	  and exits non-zero when a check failed.
 *
 * Most inputs are read four ways, which must all give the same items: as a plain
 * file, with 1-byte and 3-byte reads (chunk boundaries everywhere), and gzipped.
 * K8S_EVENTS_REAL_EVENTS names the directory of real dumps (skipped when absent);
 * K8S_EVENTS_UNDER_VALGRIND (or _UNDER_SANITIZER) skips the 200 MB bounded-memory check.
 */
#include "load/dump_reader.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <zlib.h>

#include "tap.h"

/* Print a multi-line text as TAP comments. */
static void
diag(const char *label, const char *text)
{
	const char *p = text;

	printf("# %s:\n", label);
	while (*p)
	{
		const char *nl = strchr(p, '\n');
		int         n = nl ? (int) (nl - p) : (int) strlen(p);

		printf("#   %.*s\n", n, p);
		p += n + (nl ? 1 : 0);
	}
}

/* ---------------------------------------------------------------- files */

static void
write_bytes(const char *path, const char *data, size_t len)
{
	FILE *f = fopen(path, "wb");

	if (f == NULL || fwrite(data, 1, len, f) != len || fclose(f) != 0)
	{
		perror(path);
		exit(2);
	}
}

/* mode "wb" writes a gzip file, "ab" appends another gzip member to it. */
static void
write_gzip(const char *path, const char *mode, const char *data, size_t len)
{
	gzFile gz = gzopen(path, mode);

	if (gz == NULL || (len > 0 && gzwrite(gz, data, (unsigned) len) != (int) len) ||
	    gzclose(gz) != Z_OK)
	{
		fprintf(stderr, "cannot write %s\n", path);
		exit(2);
	}
}

static long
file_size(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 ? (long) st.st_size : -1;
}

/* ---------------------------------------------------------------- reading */

typedef struct Text
{
	char  *s;
	size_t len;
	size_t cap;
} Text;

static void text_add(Text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
text_add(Text *t, const char *fmt, ...)
{
	va_list ap;
	int     n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (t->len + (size_t) n + 1 > t->cap)
	{
		t->cap = (t->len + (size_t) n + 1) * 2;
		t->s = realloc(t->s, t->cap);
		if (t->s == NULL)
			abort();
	}
	va_start(ap, fmt);
	vsnprintf(t->s + t->len, (size_t) n + 1, fmt, ap);
	va_end(ap);
	t->len += (size_t) n;
}

typedef struct Options
{
	size_t chunk;    /* 0: the reader's own */
	size_t max_item; /* 0: the reader's own */
	bool   show_raw; /* add |raw| to malformed items */
} Options;

/*
 * Everything the reader says about a file, one line per item: "LINE compact-json"
 * or "LINE ! error", then "END" or "FAIL error" (the file name replaced by FILE).
 */
static char *
read_all(const char *path, Options opt, DumpFormat *format, int *nitems)
{
	char        err[512] = "";
	Text        t = {0};
	DumpReader *r = dump_reader_open(path, err, sizeof(err));
	DumpItem    item;
	int         rc;

	*nitems = 0;
	text_add(&t, "%s", "");
	if (r == NULL)
	{
		text_add(&t, "OPEN %s", err);
		return t.s;
	}
	if (opt.chunk)
		dump_reader_set_chunk_size(r, opt.chunk);
	if (opt.max_item)
		dump_reader_set_max_item(r, opt.max_item);
	while ((rc = dump_reader_next(r, &item, err, sizeof(err))) > 0)
	{
		(*nitems)++;
		if (item.value)
		{
			char *js = json_dumps(item.value, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);

			text_add(&t, "%ld %s\n", item.line, js);
			free(js);
			json_decref(item.value);
		}
		else if (opt.show_raw)
			text_add(&t, "%ld ! %s |%.*s|\n", item.line, item.error, (int) item.raw_len,
			         item.raw ? item.raw : "");
		else
			text_add(&t, "%ld ! %s\n", item.line, item.error);
	}
	if (rc == 0)
		text_add(&t, "END");
	else if (strncmp(err, path, strlen(path)) == 0)
		text_add(&t, "FAIL FILE%s", err + strlen(path));
	else
		text_add(&t, "FAIL %s", err);
	/* After the end or a failure, the reader keeps saying so. */
	if (dump_reader_next(r, &item, err, sizeof(err)) != rc || item.value != NULL)
		text_add(&t, " (but then something else)");
	if (format)
		*format = dump_reader_format(r);
	dump_reader_close(r);
	return t.s;
}

/*
 * Read the input as a plain file, with 1-byte and 3-byte reads and gzipped: each
 * must give exactly the expected items.
 */
static void
expect_items_opt(const char *name, const char *input, size_t len, Options opt, const char *expected)
{
	static const char *const how[] = {"plain", "1-byte reads", "3-byte reads", "gzip"};
	char                    *plain = tmp_path("case.txt");
	char                    *gz = tmp_path("case.txt.gz");
	bool                     all = true;

	write_bytes(plain, input, len);
	write_gzip(gz, "wb", input, len);
	for (int i = 0; i < 4; i++)
	{
		Options o = opt;
		int     n;
		char   *got;

		o.chunk = i == 1 ? 1 : i == 2 ? 3 : 0;
		got = read_all(i == 3 ? gz : plain, o, NULL, &n);
		if (strcmp(got, expected) != 0)
		{
			if (all)
			{
				check(0, "%s (%s)", name, how[i]);
				diag("expected", expected);
				diag("got", got);
			}
			all = false;
		}
		free(got);
	}
	if (all)
		check(1, "%s", name);
}

static void
expect_items(const char *name, const char *input, const char *expected)
{
	Options opt = {0};

	expect_items_opt(name, input, strlen(input), opt, expected);
}

/* ---------------------------------------------------------------- JSON */

static const char *kubectl_list =
    "{\n"
    "    \"apiVersion\": \"v1\",\n"
    "    \"items\": [\n"
    "        {\n"
    "            \"apiVersion\": \"v1\",\n"
    "            \"count\": 3,\n"
    "            \"kind\": \"Event\",\n"
    "            \"message\": \"Back-off [x] {y} \\\"z\\\" \\\\ ]}\",\n"
    "            \"metadata\": {\n"
    "                \"name\": \"a.1\",\n"
    "                \"items\": [1, 2]\n"
    "            }\n"
    "        },\n"
    "        {\n"
    "            \"kind\": \"Event\",\n"
    "            \"metadata\": {\n"
    "                \"name\": \"b.2\"\n"
    "            }\n"
    "        }\n"
    "    ],\n"
    "    \"kind\": \"List\",\n"
    "    \"metadata\": {\n"
    "        \"resourceVersion\": \"\"\n"
    "    }\n"
    "}\n";

static void
test_json_lists(void)
{
	char *big;
	char *input;
	char *expected;

	expect_items("kubectl List with \"items\": null yields nothing",
	             "{\"apiVersion\":\"v1\",\"items\":null,\"kind\":\"List\",\"metadata\":{}}\n",
	             "END");
	expect_items("kubectl List with \"items\": [] yields nothing",
	             "{\n  \"apiVersion\": \"v1\",\n  \"items\": [],\n  \"kind\": \"List\"\n}\n",
	             "END");
	expect_items(
	    "pretty-printed kubectl List: each item, at its line; brackets and quotes in "
	    "strings, a nested \"items\" key",
	    kubectl_list,
	    "4 {\"apiVersion\":\"v1\",\"count\":3,\"kind\":\"Event\",\"message\":\"Back-off [x] "
	    "{y} \\\"z\\\" \\\\ ]}\",\"metadata\":{\"items\":[1,2],\"name\":\"a.1\"}}\n"
	    "14 {\"kind\":\"Event\",\"metadata\":{\"name\":\"b.2\"}}\n"
	    "END");
	expect_items("an EventList without kind, items first and more keys after them",
	             "{\"items\":[{\"a\":1},{\"b\":{\"c\":[{},[]]}}],\"kind\":\"EventList\","
	             "\"metadata\":{\"x\":[1,{\"y\":\"]\"}]}}",
	             "1 {\"a\":1}\n1 {\"b\":{\"c\":[{},[]]}}\nEND");
	expect_items("two Lists one after the other",
	             "{\"items\":[{\"a\":1}]}\n{\"kind\":\"List\",\"items\":[{\"b\":2}]}\n",
	             "1 {\"a\":1}\n2 {\"b\":2}\nEND");
	expect_items("\"items\" as a value or a nested key does not make a List",
	             "{\"kind\":\"items\",\"x\":{\"items\":[1]},\"y\":[\"items\"]}\n",
	             "1 {\"kind\":\"items\",\"x\":{\"items\":[1]},\"y\":[\"items\"]}\nEND");
	expect_items("bare JSON array: objects, scalars, nested arrays",
	             "[\n  {\"a\": 1},\n  {\"b\": \"[{\\\"\"},\n  3, \"x\", null, true, -1.5e3,\n  [1, "
	             "[2]]\n]\n",
	             "2 {\"a\":1}\n3 {\"b\":\"[{\\\"\"}\n4 3\n4 \"x\"\n4 null\n4 true\n4 -1500.0\n5 "
	             "[1,[2]]\nEND");
	expect_items("empty array", "[]", "END");
	expect_items("\"items\" that is an object, then a List whose items is a number",
	             "{\"kind\":\"List\",\"items\":{\"a\":1},\"more\":[1]}\n{\"items\": 5}\n",
	             "1 ! \"items\" of the list that began at line 1 is an object, not an array\n"
	             "2 ! \"items\" of the list that began at line 2 is a number, not an array\n"
	             "END");

	/* The "items" key comes after 300 kB of other keys, and the List is followed by an Event. */
	big = malloc(300001);
	memset(big, 'x', 300000);
	big[300000] = '\0';
	input = malloc(700000);
	snprintf(input, 700000,
	         "{\"kind\":\"EventList\",\"metadata\":{\"note\":\"%s\",\"a\":[\"]\"]},\n"
	         "\"apiVersion\":\"v1\",\n\"items\":[{\"n\":1},\n{\"n\":2}],\"tail\":\"%s\"}\n"
	         "{\"n\":3}\n",
	         big, big);
	expected = "3 {\"n\":1}\n4 {\"n\":2}\n5 {\"n\":3}\nEND";
	expect_items("a List whose \"items\" comes after 300 kB of other keys", input, expected);
	free(input);
	free(big);
}

static void
test_json_streams(void)
{
	expect_items("NDJSON Events",
	             "{\"kind\":\"Event\",\"metadata\":{\"name\":\"a\"}}\n"
	             "{\"kind\":\"Event\",\"metadata\":{\"name\":\"b\"}}\n"
	             "\n"
	             "{\"kind\":\"Event\",\"metadata\":{\"name\":\"c\"}}",
	             "1 {\"kind\":\"Event\",\"metadata\":{\"name\":\"a\"}}\n"
	             "2 {\"kind\":\"Event\",\"metadata\":{\"name\":\"b\"}}\n"
	             "4 {\"kind\":\"Event\",\"metadata\":{\"name\":\"c\"}}\n"
	             "END");
	expect_items("watch frames",
	             "{\"type\":\"ADDED\",\"object\":{\"kind\":\"Event\",\"count\":1}}\n"
	             "{\"type\":\"MODIFIED\",\"object\":{\"kind\":\"Event\",\"count\":2}}\n"
	             "{\"type\":\"BOOKMARK\",\"object\":{\"metadata\":{\"resourceVersion\":\"9\"}}}\n",
	             "1 {\"object\":{\"count\":1,\"kind\":\"Event\"},\"type\":\"ADDED\"}\n"
	             "2 {\"object\":{\"count\":2,\"kind\":\"Event\"},\"type\":\"MODIFIED\"}\n"
	             "3 {\"object\":{\"metadata\":{\"resourceVersion\":\"9\"}},\"type\":\"BOOKMARK\"}\n"
	             "END");
	expect_items("eventrouter lines and the namespace-wrapped form",
	             "{\"verb\":\"ADDED\",\"event\":{\"reason\":\"Pulled\"}}\n"
	             "{\"verb\":\"UPDATED\",\"event\":{\"count\":2},\"old_event\":{\"count\":1}}\n"
	             "{\"default\":{\"verb\":\"ADDED\",\"event\":{\"reason\":\"Started\"}}}\n",
	             "1 {\"event\":{\"reason\":\"Pulled\"},\"verb\":\"ADDED\"}\n"
	             "2 {\"event\":{\"count\":2},\"old_event\":{\"count\":1},\"verb\":\"UPDATED\"}\n"
	             "3 {\"default\":{\"event\":{\"reason\":\"Started\"},\"verb\":\"ADDED\"}}\n"
	             "END");
	expect_items("pretty-printed objects one after another (kubectl get -w -o json)",
	             "{\n  \"a\": {\n    \"b\": 1\n  }\n}\n{\n  \"c\": 2\n}{\"d\": 3}\n",
	             "1 {\"a\":{\"b\":1}}\n6 {\"c\":2}\n8 {\"d\":3}\nEND");
	/* After a first JSON value: a leading '"' would make the input YAML. */
	expect_items("top-level scalars are items of their own", "{}\n\"abc\"\n42\nnull\n",
	             "1 {}\n2 \"abc\"\n3 42\n4 null\nEND");
	expect_items("a leading scalar makes the input YAML", "\"abc\"\n", "1 \"abc\"\nEND");
	expect_items("CRLF line endings",
	             "{\"a\":1}\r\n{\"b\":2}\r\n\r\n{\r\n  \"items\": [\r\n    {\"c\": 3},\r\n    "
	             "{\"d\": 4}\r\n  ]\r\n}\r\n",
	             "1 {\"a\":1}\n2 {\"b\":2}\n6 {\"c\":3}\n7 {\"d\":4}\nEND");
	expect_items("a UTF-8 byte order mark", "\xEF\xBB\xBF[{\"a\":\"\xC3\xA9\"}]\n",
	             "1 {\"a\":\"\xC3\xA9\"}\nEND");
	expect_items("leading blank lines count", "\n\n  \n{\"a\":1}\n", "4 {\"a\":1}\nEND");
}

static void
test_json_malformed(void)
{
	Options     raw = {.show_raw = true};
	const char *in;

	in = "{\"a\":1}\n\x01\x02\xff\xfe junk {\n{\"b\":2}\n";
	expect_items_opt("a line of binary garbage between NDJSON lines", in, strlen(in), raw,
	                 "1 {\"a\":1}\n"
	                 "2 ! invalid JSON at line 2, column 1: invalid token near '\x01' "
	                 "|\x01\x02\xff\xfe junk {|\n"
	                 "3 {\"b\":2}\n"
	                 "END");
	in = "{\"a\":1}\nhello world\n{\"b\":2}\n";
	expect_items_opt("a stray word", in, strlen(in), raw,
	                 "1 {\"a\":1}\n"
	                 "2 ! invalid JSON at line 2, column 5: invalid token near 'hello' "
	                 "|hello world|\n"
	                 "3 {\"b\":2}\n"
	                 "END");
	in = "{\"a\":1}\n{\"b\":\"x\xff\"}\n{\"c\":3}\n";
	expect_items_opt("invalid UTF-8 inside a string", in, strlen(in), raw,
	                 "1 {\"a\":1}\n"
	                 "2 ! invalid JSON at line 2, column 7: unable to decode byte 0xff near "
	                 "'\"x' |{\"b\":\"x\xff\"}|\n"
	                 "3 {\"c\":3}\n"
	                 "END");
	in = "{\"a\":1}\n  {\"a\": tru}\n{\"c\":3}\n";
	expect_items_opt("wrong syntax inside a balanced item", in, strlen(in), raw,
	                 "1 {\"a\":1}\n"
	                 "2 ! invalid JSON at line 2, column 11: invalid token near 'tru' |{\"a\": "
	                 "tru}|\n"
	                 "3 {\"c\":3}\n"
	                 "END");
	in = "[{\"a\":1},\n {\"a\":\n tru},\n {\"c\":3}]";
	expect_items_opt("wrong syntax inside a List element, on its second line", in, strlen(in), raw,
	                 "1 {\"a\":1}\n"
	                 "2 ! invalid JSON at line 3, column 4: invalid token near 'tru' |{\"a\":\n "
	                 "tru}|\n"
	                 "4 {\"c\":3}\n"
	                 "END");
	{
		/* Deeper than jansson goes: the scanner counts on, jansson says no. */
		Text t = {0};

		for (int i = 0; i < 3000; i++)
			text_add(&t, "[");
		for (int i = 0; i < 3000; i++)
			text_add(&t, "]");
		text_add(&t, "\n{\"b\":1}\n");
		expect_items_opt("nesting deeper than 2048 levels", t.s, t.len, (Options){0},
		                 "1 ! invalid JSON at line 1, column 2050: maximum parsing depth reached "
		                 "near '['\n"
		                 "2 {\"b\":1}\n"
		                 "END");
		t.len = 0;
		text_add(&t, "- ");
		for (int i = 0; i < 3000; i++)
			text_add(&t, "[");
		for (int i = 0; i < 3000; i++)
			text_add(&t, "]");
		text_add(&t, "\n- b: 1\n");
		expect_items_opt("YAML nesting deeper than 2048 levels", t.s, t.len, (Options){0},
		                 "1 ! YAML nested more than 2048 levels deep at line 1\n"
		                 "2 {\"b\":1}\n"
		                 "END");
		free(t.s);
	}
	/* The loader's decoder refuses such an Event, naming the field (event_decode.c). */
	expect_items("\\u0000 is read, for the decoder to refuse", "{\"a\":\"\\u0000\"}\n{\"b\":1}\n",
	             "1 {\"a\":\"\\u0000\"}\n2 {\"b\":1}\nEND");
	in = "{\"a\":1}\n{\"b\":2}\n{\"c\":3,\"d\":[";
	expect_items_opt("NDJSON truncated mid-line", in, strlen(in), raw,
	                 "1 {\"a\":1}\n"
	                 "2 {\"b\":2}\n"
	                 "3 ! truncated JSON: input ends inside an item that began at line 3 "
	                 "|{\"c\":3,\"d\":[|\n"
	                 "END");
	/* A newline between elements is no cut: arrays are often written one element a line. */
	in = "{\"a\":1}\n{\"type\":\"ADDED\",\"object\":{\"kind\":\"Ev\n{\"b\":2}\n[1,{\"x\":\n{\"c\":"
	     "3}\n"
	     "[2,\n{\"d\":4}]\n";
	expect_items_opt("NDJSON lines cut short by a writer that died, then appended to", in,
	                 strlen(in), raw,
	                 "1 {\"a\":1}\n"
	                 "2 ! truncated JSON: line 2 ends inside an item "
	                 "|{\"type\":\"ADDED\",\"object\":{\"kind\":\"Ev|\n"
	                 "3 {\"b\":2}\n"
	                 "4 1\n"
	                 "4 ! truncated JSON: line 4 ends inside the list that began on it "
	                 "|{\"x\":|\n"
	                 "5 {\"c\":3}\n"
	                 "6 2\n"
	                 "7 {\"d\":4}\n"
	                 "END");
	in = "{\n  \"items\": [\n    {\"a\": 1},\n    {\"b\": 2},\n    {\"c\": [3,";
	expect_items_opt("a List truncated in an element", in, strlen(in), raw,
	                 "3 {\"a\":1}\n"
	                 "4 {\"b\":2}\n"
	                 "5 ! truncated JSON: input ends inside the list that began at line 1 "
	                 "|{\"c\": [3,|\n"
	                 "END");
	in = "[{\"a\":1},\n{\"b\":2},\n";
	expect_items_opt("an array truncated between elements", in, strlen(in), raw,
	                 "1 {\"a\":1}\n"
	                 "2 {\"b\":2}\n"
	                 "3 ! truncated JSON: input ends inside the list that began at line 1 ||\n"
	                 "END");
	expect_items("a List truncated after its items", "{\"items\":[{\"a\":1}],\"metadata\":{\"x\":",
	             "1 {\"a\":1}\n"
	             "1 ! truncated JSON: input ends inside the list that began at line 1\n"
	             "END");
	expect_items("a bracket that does not match inside a List: -1 after the items before it",
	             "{\"items\":[\n{\"a\":1},\n{\"b\":[1}\n,{\"c\":3}]}\n",
	             "2 {\"a\":1}\n"
	             "FAIL FILE: JSON syntax error at line 3, column 8: '}' does not close '['; the "
	             "list that began at line 1 cannot be read further");
	expect_items("a missing comma inside an array: -1", "[{\"a\":1}\n{\"b\":2}]",
	             "1 {\"a\":1}\n"
	             "FAIL FILE: JSON syntax error at line 2, column 1: '{' where ',' or ']' was "
	             "expected in the list that began at line 1");
	expect_items("a trailing comma inside an array: -1", "[1,2,]",
	             "1 1\n1 2\n"
	             "FAIL FILE: JSON syntax error at line 1, column 6: ']' where a value was expected "
	             "in the list that began at line 1");
	in = "{\"a\":[1}\n{\"b\":2}\n";
	expect_items_opt("a bracket that does not match in an NDJSON line: the rest of the line", in,
	                 strlen(in), raw,
	                 "1 ! JSON syntax error at line 1, column 8: '}' does not close '[' "
	                 "|{\"a\":[1}|\n"
	                 "2 {\"b\":2}\n"
	                 "END");
	in = "{\n  \"a\": [1\n  },\n  \"b\": 2\n}\n{\n  \"c\": 3\n}\n";
	expect_items_opt("a bracket that does not match in a pretty-printed value: up to the next "
	                 "value",
	                 in, strlen(in), raw,
	                 "1 ! JSON syntax error at line 3, column 3: '}' does not close '[' |{\n  "
	                 "\"a\": [1\n  },\n  \"b\": 2\n}|\n"
	                 "6 {\"c\":3}\n"
	                 "END");
}

static void
test_item_limit(void)
{
	Options opt = {.max_item = 5000, .show_raw = false};
	char   *big = malloc(20001);
	char   *in = malloc(50000);
	char    err[256];
	char   *path = tmp_path("limit.json");
	size_t  len;

	memset(big, 'x', 20000);
	big[20000] = '\0';

	/* NDJSON: {"big":"x..."} is 20010 bytes. */
	len = (size_t) snprintf(in, 50000, "{\"a\":1}\n{\"big\":\"%s\"}\n{\"b\":2}\n", big);
	expect_items_opt("an NDJSON item over the limit is skipped, its neighbours are read", in, len,
	                 opt,
	                 "1 {\"a\":1}\n"
	                 "2 ! item of 20010 bytes exceeds the 5000-byte limit\n"
	                 "3 {\"b\":2}\n"
	                 "END");
	len = (size_t) snprintf(in, 50000, "[{\"a\":1},{\"big\":[\"%s\"]},{\"b\":2}]", big);
	expect_items_opt("a List element over the limit", in, len, opt,
	                 "1 {\"a\":1}\n"
	                 "1 ! item of 20012 bytes exceeds the 5000-byte limit\n"
	                 "1 {\"b\":2}\n"
	                 "END");
	len = (size_t) snprintf(in, 50000, "{\"metadata\":{\"x\":\"%s\"},\"items\":[{\"a\":1}]}", big);
	expect_items_opt("a List whose keys before \"items\" exceed the limit is still a List", in, len,
	                 opt, "1 {\"a\":1}\nEND");
	len = (size_t) snprintf(in, 50000, "a:\n  b: %s\n---\nc: 1\n", big);
	expect_items_opt("a YAML document over the limit", in, len, opt,
	                 "1 ! item of 20009 characters exceeds the 5000-byte limit\n"
	                 "4 {\"c\":1}\n"
	                 "END");
	len = (size_t) snprintf(in, 50000, "items:\n- a: 1\n- b: [%s]\n- c: 2\n", big);
	expect_items_opt("a YAML List element over the limit", in, len, opt,
	                 "2 {\"a\":1}\n"
	                 "3 ! item of 20006 characters exceeds the 5000-byte limit\n"
	                 "4 {\"c\":2}\n"
	                 "END");

	/* Its raw bytes are its first 4096. */
	len = (size_t) snprintf(in, 50000, "{\"big\":\"%s\"}\n", big);
	write_bytes(path, in, len);
	for (int chunk = 0; chunk <= 1; chunk++)
	{
		DumpReader *r = dump_reader_open(path, err, sizeof(err));
		DumpItem    item;
		int         rc;

		dump_reader_set_max_item(r, 5000);
		if (chunk)
			dump_reader_set_chunk_size(r, 1);
		rc = dump_reader_next(r, &item, err, sizeof(err));
		check(rc == 1 && item.value == NULL && item.raw_len == 4096 &&
		          memcmp(item.raw, in, 4096) == 0,
		      "the raw bytes of an item over the limit are its first 4096 (%s reads)",
		      chunk ? "1-byte" : "256 kB");
		dump_reader_close(r);
	}

	/* A 10 MB single-line Event is under the real limit. */
	free(in);
	in = malloc(11 * 1024 * 1024);
	len = (size_t) snprintf(in, 100, "{\"kind\":\"Event\",\"message\":\"");
	memset(in + len, 'm', 10 * 1024 * 1024);
	len += 10 * 1024 * 1024;
	len += (size_t) snprintf(in + len, 100, "\"}\n{\"kind\":\"Event\"}\n");
	write_bytes(path, in, len);
	{
		DumpReader *r = dump_reader_open(path, err, sizeof(err));
		DumpItem    item;
		int         rc1, rc2, rc3;
		long        line2;
		size_t      mlen = 0;

		rc1 = dump_reader_next(r, &item, err, sizeof(err));
		if (rc1 == 1 && item.value)
			mlen = strlen(json_string_value(json_object_get(item.value, "message")));
		json_decref(item.value);
		rc2 = dump_reader_next(r, &item, err, sizeof(err));
		line2 = item.line;
		json_decref(item.value);
		rc3 = dump_reader_next(r, &item, err, sizeof(err));
		check(rc1 == 1 && mlen == 10 * 1024 * 1024 && rc2 == 1 && line2 == 2 && rc3 == 0,
		      "a 10 MB single-line Event is read whole");
		dump_reader_close(r);
	}
	free(in);
	free(big);
}

/* ---------------------------------------------------------------- YAML */

static const char *yaml_list = "apiVersion: v1\n"
                               "items:\n"
                               "- apiVersion: v1\n"
                               "  count: 3\n"
                               "  eventTime: null\n"
                               "  firstTimestamp: \"2024-01-01T00:00:00Z\"\n"
                               "  lastTimestamp: 2024-01-02T00:00:00Z\n"
                               "  involvedObject:\n"
                               "    kind: Pod\n"
                               "    name: web-1\n"
                               "    resourceVersion: \"12345\"\n"
                               "    uid: '0123'\n"
                               "  kind: Event\n"
                               "  message: 'Back-off: \"x\" [y] {z}'\n"
                               "  metadata:\n"
                               "    name: web-1.17a\n"
                               "    namespace: default\n"
                               "  reason: BackOff\n"
                               "  type: Warning\n"
                               "- kind: Event\n"
                               "  metadata: {name: b, namespace: default}\n"
                               "  message: |\n"
                               "    line one\n"
                               "    line two\n"
                               "kind: List\n"
                               "metadata:\n"
                               "  resourceVersion: \"\"\n";

static void
test_yaml(void)
{
	expect_items(
	    "kubectl -o yaml List: quoted numbers stay strings, count is an integer", yaml_list,
	    "3 "
	    "{\"apiVersion\":\"v1\",\"count\":3,\"eventTime\":null,\"firstTimestamp\":\"2024-01-01T00:"
	    "00:00Z\",\"involvedObject\":{\"kind\":\"Pod\",\"name\":\"web-1\",\"resourceVersion\":"
	    "\"12345\",\"uid\":\"0123\"},\"kind\":\"Event\",\"lastTimestamp\":\"2024-01-02T00:00:00Z\","
	    "\"message\":\"Back-off: \\\"x\\\" [y] {z}\",\"metadata\":{\"name\":\"web-1.17a\","
	    "\"namespace\":\"default\"},\"reason\":\"BackOff\",\"type\":\"Warning\"}\n"
	    "20 {\"kind\":\"Event\",\"message\":\"line one\\nline "
	    "two\\n\",\"metadata\":{\"name\":\"b\","
	    "\"namespace\":\"default\"}}\n"
	    "END");
	expect_items("YAML List with items: null, then one with items: []",
	             "apiVersion: v1\nitems: null\nkind: List\n---\nitems: []\nkind: List\n", "END");
	expect_items("YAML documents, an empty one skipped",
	             "# events\n---\nkind: Event\nn: 1\n---\nkind: Event\nn: 2\n...\n---\n",
	             "3 {\"kind\":\"Event\",\"n\":1}\n6 {\"kind\":\"Event\",\"n\":2}\nEND");
	expect_items("a YAML root sequence", "- a: 1\n- [1, 2]\n- x\n-\n",
	             "1 {\"a\":1}\n2 [1,2]\n3 \"x\"\n4 null\nEND");
	expect_items(
	    "YAML plain scalars: null, booleans, integers, floats; the rest strings",
	    "a: [~, null, Null, NULL, '', \"null\"]\n"
	    "b: [true, True, TRUE, false, False, FALSE, yes, 'true']\n"
	    "c: [0, -12, +7, 007, 9223372036854775807, 99999999999999999999, '3']\n"
	    "d: [1.5, -.5, 1e3, 2.5E-1, .inf, .nan, 0x1F, 1_000, 1.2.3]\n"
	    "e: !!str 123\n"
	    "f:\n",
	    "1 {\"a\":[null,null,null,null,\"\",\"null\"],\"b\":[true,true,true,false,false,false,"
	    "\"yes\",\"true\"],\"c\":[0,-12,7,7,9223372036854775807,1e20,\"3\"],\"d\":[1.5,-0.5,1000."
	    "0,0.25,\".inf\",\".nan\",\"0x1F\",\"1_000\",\"1.2.3\"],\"e\":\"123\",\"f\":null}\n"
	    "END");
	expect_items("aliases that would expand without bound (billion laughs); an anchor "
	             "defined again",
	             "a: &a [x, x, x, x, x, x, x, x, x, x]\n"
	             "b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
	             "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\n"
	             "d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\n"
	             "e: [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\n"
	             "---\n"
	             "x: &x 1\ny: *x\nx2: &x 2\nz: *x\n",
	             "1 ! YAML aliases expand the item to more than 100000 values (line 5)\n"
	             "7 {\"x\":1,\"x2\":2,\"y\":1,\"z\":2}\n"
	             "END");
	expect_items("YAML anchors and aliases are copied",
	             "base: &b {reason: BackOff, n: [1, 2]}\nx: *b\ny: &s plain\nz: *s\n",
	             "1 {\"base\":{\"n\":[1,2],\"reason\":\"BackOff\"},\"x\":{\"n\":[1,2],\"reason\":"
	             "\"BackOff\"},\"y\":\"plain\",\"z\":\"plain\"}\nEND");
	expect_items("malformed YAML items: an unknown alias, a non-scalar key; their neighbours "
	             "are read",
	             "- a: 1\n- b: *nowhere\n- ? [k]\n  : v\n- c: 3\n",
	             "1 {\"a\":1}\n"
	             "2 ! YAML alias *nowhere at line 2 has no anchor\n"
	             "3 ! YAML mapping key at line 3 is not a scalar\n"
	             "5 {\"c\":3}\nEND");
	expect_items("a malformed root mapping before \"items\" is still a List",
	             "? [k]\n: v\nitems:\n- a: 1\n", "4 {\"a\":1}\nEND");
	expect_items("a malformed root mapping that is not a List",
	             "a: 1\n? [k]\n: v\nb: 2\n---\nc: 3\n",
	             "1 ! YAML mapping key at line 2 is not a scalar\n6 {\"c\":3}\nEND");
	expect_items("a YAML List whose items is a mapping", "kind: List\nitems:\n  a: 1\n",
	             "3 ! \"items\" of the list that began at line 1 is a mapping, not a sequence\n"
	             "END");
	expect_items("a NUL in a YAML string", "- a: \"x\\0y\"\n- b: 1\n",
	             "1 ! YAML string at line 1 contains a NUL character\n2 {\"b\":1}\nEND");
	expect_items("a YAML syntax error: -1 after the items before it",
	             "items:\n- a: 1\n- b: 2\n- c: [1,\n  d: 2\n",
	             "2 {\"a\":1}\n3 {\"b\":2}\n"
	             "FAIL FILE: YAML syntax error at line 6, column 1: did not find expected ',' or "
	             "']' (while parsing a flow sequence at line 4)");
	{
		/*
		 * libyaml decodes ahead of what it parses: item b ends only at the next token,
		 * which is the bad byte, 39 kB after the first item.
		 */
		Text t = {0};

		text_add(&t, "- a: 1\n- b: 2\n");
		for (int i = 0; i < 1000; i++)
			text_add(&t, "# a comment line, 39 bytes long.......\n");
		text_add(&t, "\xff: c\n");
		expect_items_opt("invalid UTF-8 in YAML: -1 after the items before it", t.s, t.len,
		                 (Options){0},
		                 "1 {\"a\":1}\n"
		                 "FAIL FILE: invalid YAML input at byte 39014: invalid leading UTF-8 "
		                 "octet");
		free(t.s);
	}
	expect_items("YAML with CRLF line endings and a byte order mark",
	             "\xEF\xBB\xBFitems:\r\n- a: 1\r\n\r\n- b: x\r\n",
	             "2 {\"a\":1}\n4 {\"b\":\"x\"}\nEND");
	expect_items("YAML after blank lines, indented", "\n\n  a: 1\n  b: 2\n",
	             "3 {\"a\":1,\"b\":2}\nEND");
}

/* ---------------------------------------------------------------- files and streams */

static void
test_files(void)
{
	char        err[512];
	char       *path = tmp_path("stream.json");
	char       *gz = tmp_path("stream.json.gz");
	DumpReader *r;
	DumpItem    item;
	DumpFormat  format;
	Text        t = {0};
	int         n;
	char       *got;
	Options     opt = {0};

	r = dump_reader_open(tmp_path("nonexistent.json"), err, sizeof(err));
	{
		char expected[600];

		snprintf(expected, sizeof(expected), "cannot open %s: No such file or directory",
		         tmp_path("nonexistent.json"));
		check(r == NULL && strcmp(err, expected) == 0, "a missing file: %s", err);
	}
	r = dump_reader_open(tmpdir, err, sizeof(err));
	check(r == NULL && strstr(err, "Is a directory") != NULL, "a directory: %s", err);

	write_bytes(path, "", 0);
	got = read_all(path, opt, &format, &n);
	check(strcmp(got, "END") == 0 && format == DUMP_FORMAT_EMPTY && n == 0, "an empty file");
	free(got);
	write_bytes(path, " \n\t\r\n\n", 6);
	got = read_all(path, opt, &format, &n);
	check(strcmp(got, "END") == 0 && format == DUMP_FORMAT_EMPTY, "a whitespace-only file");
	free(got);
	write_gzip(gz, "wb", "", 0);
	got = read_all(gz, opt, &format, &n);
	check(strcmp(got, "END") == 0 && format == DUMP_FORMAT_EMPTY, "an empty gzip file");
	free(got);

	/* Format, description, size and offset. */
	for (int i = 0; i < 300; i++)
		text_add(&t, "{\"kind\":\"Event\",\"metadata\":{\"name\":\"e%d\"},\"count\":%d}\n", i, i);
	write_bytes(path, t.s, t.len);
	write_gzip(gz, "wb", t.s, t.len);
	r = dump_reader_open(path, err, sizeof(err));
	check(r && dump_reader_format(r) == DUMP_FORMAT_UNKNOWN && dump_reader_offset(r) == 0 &&
	          dump_reader_size(r) == (int64_t) t.len,
	      "before the first item: format unknown, offset 0, the file's size");
	n = 0;
	while (dump_reader_next(r, &item, err, sizeof(err)) == 1)
	{
		n++;
		json_decref(item.value);
	}
	check(n == 300 && dump_reader_format(r) == DUMP_FORMAT_JSON &&
	          strcmp(dump_reader_describe(r), "JSON") == 0 &&
	          dump_reader_offset(r) == (uint64_t) t.len,
	      "plain JSON: described as \"%s\", offset %llu of %zu at the end", dump_reader_describe(r),
	      (unsigned long long) dump_reader_offset(r), t.len);
	dump_reader_close(r);
	r = dump_reader_open(gz, err, sizeof(err));
	n = 0;
	while (dump_reader_next(r, &item, err, sizeof(err)) == 1)
	{
		n++;
		json_decref(item.value);
	}
	check(n == 300 && strcmp(dump_reader_describe(r), "gzip-compressed JSON") == 0 &&
	          dump_reader_size(r) == file_size(gz) &&
	          dump_reader_offset(r) == (uint64_t) file_size(gz),
	      "gzip: described as \"%s\", offset %llu of %ld compressed bytes at the end",
	      dump_reader_describe(r), (unsigned long long) dump_reader_offset(r), file_size(gz));
	dump_reader_close(r);

	/* Multi-member gzip: JSON in one member, more in the next, YAML as well. */
	write_gzip(gz, "wb", "{\"a\":1}\n{\"b\":", 13);
	write_gzip(gz, "ab", "2}\n[{\"c\":3}]\n", 13);
	got = read_all(gz, opt, &format, &n);
	check(strcmp(got, "1 {\"a\":1}\n2 {\"b\":2}\n3 {\"c\":3}\nEND") == 0,
	      "multi-member gzip, an item split across members");
	free(got);
	write_gzip(gz, "wb", "- a: 1\n", 7);
	write_gzip(gz, "ab", "- b: 2\n", 7);
	r = dump_reader_open(gz, err, sizeof(err));
	got = read_all(gz, opt, &format, &n);
	check(strcmp(got, "1 {\"a\":1}\n2 {\"b\":2}\nEND") == 0 && r &&
	          dump_reader_next(r, &item, err, sizeof(err)) == 1 &&
	          strcmp(dump_reader_describe(r), "gzip-compressed YAML") == 0,
	      "multi-member gzip YAML");
	json_decref(item.value);
	dump_reader_close(r);
	free(got);

	/* A gzip file cut in half: the items before the cut, then -1. */
	write_gzip(gz, "wb", t.s, t.len);
	{
		long  size = file_size(gz);
		char *bytes = malloc((size_t) size);
		FILE *f = fopen(gz, "rb");

		if (f == NULL || fread(bytes, 1, (size_t) size, f) != (size_t) size)
			abort();
		fclose(f);
		write_bytes(gz, bytes, (size_t) size / 2);
		got = read_all(gz, opt, &format, &n);
		check(n > 10 && n < 300 &&
		          strstr(got, "FAIL FILE: corrupt gzip data: unexpected end of file"),
		      "a truncated gzip file: %d items, then %s", n, strrchr(got, '\n') + 1);
		free(got);
		/* Corrupt the deflate data itself. */
		for (long i = size / 3; i < size / 3 + 64; i++)
			bytes[i] ^= 0x55;
		write_bytes(gz, bytes, (size_t) size);
		got = read_all(gz, opt, &format, &n);
		check(n < 300 && strstr(got, "FAIL FILE: corrupt gzip data: ") != NULL,
		      "corrupt gzip data: %s", strrchr(got, '\n') ? strrchr(got, '\n') + 1 : got);
		free(got);
		free(bytes);
	}

	/* Standard input ("-"), which the reader must not close. */
	{
		int saved = dup(STDIN_FILENO);
		int fd = open(path, O_RDONLY);

		dup2(fd, STDIN_FILENO);
		close(fd);
		r = dump_reader_open("-", err, sizeof(err));
		n = 0;
		while (r && dump_reader_next(r, &item, err, sizeof(err)) == 1)
		{
			n++;
			json_decref(item.value);
		}
		dump_reader_close(r);
		check(n == 300 && fcntl(STDIN_FILENO, F_GETFD) != -1, "standard input as \"-\", left open");
		dup2(saved, STDIN_FILENO);
		close(saved);
	}
	free(t.s);
}

/* Every real dump: the item counts of README.txt, every item an Event. */
static void
test_real_events(void)
{
	static const struct
	{
		const char *path;
		int         items;
	} files[] = {
	    {"kubernetes-api/testdata-HEAD/core.v1.Event.json", 1},
	    {"kubernetes-api/testdata-HEAD/core.v1.Event.yaml", 1},
	    {"kubernetes-api/testdata-HEAD/events.k8s.io.v1.Event.json", 1},
	    {"kubernetes-api/testdata-HEAD/events.k8s.io.v1.Event.yaml", 1},
	    {"sonobuoy/results-0.10/default-Events.json", 23},
	    {"sonobuoy/results-0.10/heptio-sonobuoy-Events.json", 56},
	    {"sonobuoy/results-0.10/kube-system-Events.json", 135},
	    {"sonobuoy/results-0.9/heptio-sonobuoy-Events.json", 60},
	    {"troubleshoot/baseline-supportbundle/cluster-resources/events/default.json", 12},
	    {"troubleshoot/baseline-supportbundle/cluster-resources/events/kube-node-lease.json", 0},
	    {"troubleshoot/baseline-supportbundle/cluster-resources/events/kube-public.json", 0},
	    {"troubleshoot/baseline-supportbundle/cluster-resources/events/kube-system.json", 85},
	    {"troubleshoot/baseline-supportbundle/run-example/run-example-events.json", 5},
	    {"troubleshoot/baseline-supportbundle/run-pod-example/run-pod-example-events.json", 5},
	    {"troubleshoot/pkg-analyze-files-events/message-container-creating-failed-mount.json", 76},
	    {"troubleshoot/pkg-analyze-files-events/message-image-pull-fail.json", 17},
	    {"troubleshoot/pkg-analyze-files-events/message-pod-init-crashloop-backoff.json", 17},
	    {"troubleshoot/testdata-support-bundle/cluster-resources/events/default.json", 5},
	    {"troubleshoot/testdata-support-bundle/cluster-resources/events/kube-node-lease.json", 0},
	    {"troubleshoot/testdata-support-bundle/cluster-resources/events/kube-public.json", 0},
	    {"troubleshoot/testdata-support-bundle/cluster-resources/events/kube-system.json", 0},
	};
	const char *dir = getenv("K8S_EVENTS_REAL_EVENTS");
	struct stat st;

	if (dir == NULL || stat(dir, &st) != 0)
	{
		printf("skip - the real dumps (K8S_EVENTS_REAL_EVENTS not set or absent)\n");
		return;
	}
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++)
	{
		char        path[1024];
		char        err[512];
		int         n = 0;
		int         events = 0;
		int         rc;
		long        last_line = 0;
		bool        ordered = true;
		DumpReader *r;
		DumpItem    item;

		snprintf(path, sizeof(path), "%s/%s", dir, files[i].path);
		r = dump_reader_open(path, err, sizeof(err));
		if (r == NULL)
		{
			check(0, "real dump %s: %s", files[i].path, err);
			continue;
		}
		while ((rc = dump_reader_next(r, &item, err, sizeof(err))) == 1)
		{
			json_t *reason = json_object_get(item.value, "reason");
			json_t *md = json_object_get(item.value, "metadata");

			n++;
			/* Every Event has a reason and a metadata.name, whatever its API version. */
			if (json_is_string(reason) && json_is_string(json_object_get(md, "name")))
				events++;
			/* sonobuoy's arrays are a single line */
			ordered = ordered && item.line >= last_line;
			last_line = item.line;
			json_decref(item.value);
		}
		check(rc == 0 && n == files[i].items && events == n && ordered,
		      "real dump %s: %d Events (%s)", files[i].path, n, dump_reader_describe(r));
		dump_reader_close(r);
	}
}

/* ---------------------------------------------------------------- bounded memory */

#define BIG_ITEMS 200000

/* Write a List of BIG_ITEMS 1 kB Events (about 200 MB) into fd. */
static void
write_big_list(int fd)
{
	FILE *f = fdopen(fd, "w");
	char  pad[900];

	memset(pad, 'p', sizeof(pad) - 1);
	pad[sizeof(pad) - 1] = '\0';
	fprintf(f, "{\n  \"apiVersion\": \"v1\",\n  \"items\": [\n");
	for (int i = 0; i < BIG_ITEMS; i++)
		fprintf(f,
		        "    {\"kind\": \"Event\", \"metadata\": {\"name\": \"e.%d\", \"namespace\": "
		        "\"default\"}, \"message\": \"%s [%d] {\\\"x\\\"}\", \"count\": %d}%s\n",
		        i, pad, i, i, i + 1 < BIG_ITEMS ? "," : "");
	fprintf(f, "  ],\n  \"kind\": \"List\",\n  \"metadata\": {\"resourceVersion\": \"\"}\n}\n");
	fclose(f);
}

/* Write one 100 MB Event, then a small one, into fd. */
static void
write_huge_item(int fd)
{
	FILE *f = fdopen(fd, "w");
	char  chunk[4096];

	memset(chunk, 'h', sizeof(chunk));
	fprintf(f, "{\"kind\": \"Event\", \"message\": \"");
	for (int i = 0; i < 100 * 256; i++)
		fwrite(chunk, 1, sizeof(chunk), f);
	fprintf(f, "\"}\n{\"kind\": \"Event\"}\n");
	fclose(f);
}

/* Open what writer writes into a pipe, from a child process. */
static DumpReader *
open_pipe(void (*writer)(int), int *fd, pid_t *pid)
{
	int  fds[2];
	char path[64];
	char err[512];

	if (pipe(fds) != 0)
		abort();
	*pid = fork();
	if (*pid == 0)
	{
		close(fds[0]);
		writer(fds[1]);
		_exit(0);
	}
	close(fds[1]);
	*fd = fds[0];
	snprintf(path, sizeof(path), "/dev/fd/%d", fds[0]);
	return dump_reader_open(path, err, sizeof(err));
}

static long
max_rss_kb(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_maxrss;
}

static void
test_bounded_memory(void)
{
	int         fd;
	pid_t       pid;
	char        err[512];
	DumpReader *r;
	DumpItem    item;
	long        before;
	long        growth;
	long        n = 0;
	long        last_count = -1;
	bool        lines_ok = true;
	int         rc;
	int         status;

	/* Both keep freed memory for a while, and ASan adds its shadow: RSS says nothing then. */
	if (getenv("K8S_EVENTS_UNDER_VALGRIND") || getenv("K8S_EVENTS_UNDER_SANITIZER"))
	{
		printf("skip - a 200 MB List through a pipe in bounded memory (under valgrind or ASan)\n");
		return;
	}
	before = max_rss_kb();
	r = open_pipe(write_big_list, &fd, &pid);
	while (r && (rc = dump_reader_next(r, &item, err, sizeof(err))) == 1)
	{
		n++;
		last_count = (long) json_integer_value(json_object_get(item.value, "count"));
		lines_ok = lines_ok && item.line == n + 3;
		json_decref(item.value);
	}
	growth = max_rss_kb() - before;
	check(r && rc == 0 && n == BIG_ITEMS && last_count == BIG_ITEMS - 1 && lines_ok,
	      "a 200 MB List through a pipe: %ld items at their lines", n);
	check(growth < 64 * 1024, "... read with %ld kB of peak memory growth", growth);
	check(r && dump_reader_size(r) == -1 && dump_reader_offset(r) > 200000000,
	      "... a pipe has no size; the offset counts the bytes read (%llu)",
	      r ? (unsigned long long) dump_reader_offset(r) : 0ULL);
	dump_reader_close(r);
	close(fd);
	waitpid(pid, &status, 0);

	/* An item over the limit is skipped, not buffered: 100 MB with a 1 MB limit. */
	before = max_rss_kb();
	r = open_pipe(write_huge_item, &fd, &pid);
	dump_reader_set_max_item(r, 1024 * 1024);
	rc = dump_reader_next(r, &item, err, sizeof(err));
	check(rc == 1 && item.value == NULL &&
	          strcmp(item.error, "item of 104857632 bytes exceeds the 1 MB limit") == 0 &&
	          item.raw_len == 4096,
	      "a 100 MB item over a 1 MB limit: %s", item.error);
	rc = dump_reader_next(r, &item, err, sizeof(err));
	check(rc == 1 && item.value && item.line == 2, "... the item after it is read");
	json_decref(item.value);
	growth = max_rss_kb() - before;
	check(growth < 16 * 1024, "... skipped with %ld kB of peak memory growth", growth);
	dump_reader_close(r);
	close(fd);
	waitpid(pid, &status, 0);
}

int
main(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (!make_tmpdir("test_dump_reader"))
		return 2;
	/* First, while the peak memory of this process is still low. */
	test_bounded_memory();
	test_json_lists();
	test_json_streams();
	test_json_malformed();
	test_item_limit();
	test_yaml();
	test_files();
	test_real_events();

	if (!remove_tmpdir())
		failures++;
	return tap_exit_status();
}
