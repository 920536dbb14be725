#!/usr/bin/env bash
# tests/test_layout.sh - checks the shape of the build and of the tree:
#   - k8s_events.so exports only what PostgreSQL looks up by name: _PG_init, Pg_magic_func,
#     the SQL functions of the install script (and their pg_finfo_ records) and the
#     background workers' entry points. PostgreSQL loads it with RTLD_GLOBAL: any other
#     exported name could clash with the server's or another extension's.
#   - no function the library calls in jansson, libcurl or libyaml has a namesake in the
#     postgres executable (the call would bind to the server's: json_object() is one), and
#     those libraries bind their own internal calls to themselves;
#   - no folder reaches into another's internals: a *_internal.h is included only beside it,
#     and the k8s-events commands include each other only through model/'s public headers.
# Each check is also run on a small library made to break it, so that it can fail.
# Prints "ok - ..." / "not ok - ..." lines.
set -u
cd "$(dirname "$0")/.."
. tests/lib.sh
tmp=$(mktemp -d /tmp/test_layout.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
PG_CONFIG=${PG_CONFIG:-/usr/lib/postgresql/15/bin/pg_config}
postgres_bin=$($PG_CONFIG --bindir)/postgres

lib=k8s_events.so
[ -e "$lib" ] || lib=$($PG_CONFIG --pkglibdir)/k8s_events.so

# What may be exported: from the sources, not from a list kept here.
allowed() {
	{
		echo _PG_init
		echo Pg_magic_func
		# AS 'MODULE_PATHNAME', 'symbol' in the install script's pieces
		grep -ho "'MODULE_PATHNAME', *'[A-Za-z0-9_]*'" extension/sql/*.sql |
			sed -E "s/.*, *'([A-Za-z0-9_]*)'/\1/" | sort -u | sed 'p; s/^/pg_finfo_/'
		# bgw_function_name, "symbol"
		grep -ho 'bgw_function_name, BGW_MAXLEN, "[A-Za-z0-9_]*"' extension/*.c |
			sed -E 's/.*"([A-Za-z0-9_]*)"/\1/'
	} | sort -u
}

exported() { nm -D --defined-only "$1" | awk '{print $3}' | sort -u; }

# export_problems LIB ALLOWED_FILE: what LIB exports beyond ALLOWED, and what it must but lacks.
export_problems() {
	exported "$1" >"$tmp/exported"
	comm -23 "$tmp/exported" "$2" | sed 's/^/exported but not looked up by PostgreSQL: /'
	comm -13 "$tmp/exported" "$2" | sed 's/^/needed but not exported: /'
}

# The shared libraries LIB links, other than libc's own.
linked_libs() {
	ldd "$1" | awk '$3 ~ /^\// {print $3}' | grep -Ev '/(libc|libm|libpthread|libdl|librt|ld-linux[^/]*)\.so'
}

# clash_problems LIB: functions LIB calls in its libraries that the server also defines,
# and calls of those libraries to themselves that the server would interpose.
clash_problems() {
	nm -D --defined-only "$postgres_bin" | awk '{print $3}' | sed 's/@.*//' | sort -u >"$tmp/server"
	nm -D --undefined-only "$1" | awk '{print $2}' | sed 's/@.*//' | sort -u >"$tmp/undefined"
	for dep in $(linked_libs "$1"); do
		nm -D --defined-only "$dep" | awk '{print $3}' | sed 's/@.*//' | sort -u >"$tmp/dep"
		comm -12 "$tmp/undefined" "$tmp/dep" | comm -12 - "$tmp/server" |
			sed "s|^|calls $(basename "$dep")'s function but the server has one of that name: |"
		readelf --relocs --wide "$dep" | awk 'NF >= 5 && $5 !~ /^[0-9a-f]+$/ {print $5}' |
			sed 's/@.*//' | sort -u | comm -12 - "$tmp/dep" | comm -12 - "$tmp/server" |
			sed "s|^|$(basename "$dep") calls its own function through the symbol table, which the server's would interpose: |"
	done
}

# ---------------------------------------------------------------- exports
allowed >"$tmp/allowed"
check "the library's expected exports are found in the sources ($(wc -l <"$tmp/allowed") names)" \
	"$([ "$(wc -l <"$tmp/allowed")" -gt 20 ] && grep -qx k8s_ingest "$tmp/allowed"; echo $?)"
problems=$(export_problems "$lib" "$tmp/allowed")
check "k8s_events.so exports only _PG_init, Pg_magic_func, the SQL functions and the workers' entry points" \
	"$([ -z "$problems" ]; echo $?)" "$problems"

problems=$(clash_problems "$lib")
check "no call from k8s_events.so or its libraries can bind to a namesake in the postgres executable" \
	"$([ -z "$problems" ]; echo $?)" "$problems"

# A library built the old way (default visibility) and calling jansson's json_object():
# both checks must see it.
cat >"$tmp/bad.c" <<'EOF'
#include <jansson.h>
int helper_with_a_common_name(void) { return 1; }
void *k8s_ingest(void) { return json_object(); }
EOF
if cc -shared -fPIC -o "$tmp/bad.so" "$tmp/bad.c" -ljansson 2>"$tmp/cc.err"; then
	problems=$(export_problems "$tmp/bad.so" "$tmp/allowed")
	check "the export check finds a name exported by default visibility" \
		"$(echo "$problems" | grep -q 'exported but not looked up by PostgreSQL: helper_with_a_common_name'; echo $?)" "$problems"
	problems=$(clash_problems "$tmp/bad.so")
	check "the clash check finds a call of jansson's json_object(), which the server also defines" \
		"$(echo "$problems" | grep -q ': json_object$'; echo $?)" "$problems"
else
	notok "build the control library" && sed 's/^/#   /' "$tmp/cc.err"
fi

# ---------------------------------------------------------------- includes
# include_problems: a *_internal.h included outside its folder; a command's folder including
# another command's header (only model/'s public headers are shared).
include_problems() {
	grep -rn --include='*.[ch]' '#include "' "$@" | while IFS= read -r line; do
		file=${line%%:*}
		header=$(echo "$line" | sed -E 's/.*#include "([^"]+)".*/\1/')
		dir=$(dirname "$file")
		if [[ $header == *_internal.h ]] && [ ! -e "$dir/$header" ]; then
			echo "$file includes $header from another folder"
			continue
		fi
		case $dir in
			loader/*)
				sub=${dir#loader/}
				case $header in
					*/*)
						other=${header%%/*}
						if [ "$other" != core ] && [ "$other" != "$sub" ] && [ "$other" != model ]; then
							echo "$file includes $header, another command's header"
						fi
						;;
				esac
				;;
		esac
	done
}
problems=$(include_problems core extension loader)
check "each folder's *_internal.h is used only inside it, and no command includes another's headers" \
	"$([ -z "$problems" ]; echo $?)" "$problems"
mkdir -p "$tmp/loader/watch" "$tmp/loader/load"
echo '#include "load/dump_reader_internal.h"' >"$tmp/loader/watch/x.c"
echo '#include "load/copy_rows.h"' >"$tmp/loader/watch/y.c"
problems=$(cd "$tmp" && include_problems loader)
check "the include check finds an internal header and another command's header" \
	"$([ "$(echo "$problems" | grep -c .)" = 2 ]; echo $?)" "$problems"

# Each folder of the program says what it is.
missing=$(for d in loader loader/*/; do [ -s "${d%/}/README.md" ] || echo "${d%/}"; done)
check "every folder of loader/ has a README.md" "$([ -z "$missing" ]; echo $?)" "$missing"

[ "$failures" = 0 ]
