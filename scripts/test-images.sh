#!/usr/bin/env bash
# Builds the local images that stand in for hashicorp/consul, mongo and nginx
# in topo's tests (no image registry is reachable from the test machines), and
# prints on stdout exactly three lines for the shell:
#
#   export TOPO_DEMO_IMAGE_CONSUL=topo-test/consul:<12 hex>
#   export TOPO_DEMO_IMAGE_MONGO=topo-test/mongo:<12 hex>
#   export TOPO_DEMO_IMAGE_NGINX=topo-test/nginx:<12 hex>
#
# so that `eval "$(scripts/test-images.sh)"` prepares a shell. Progress goes
# to stderr.
#
# Each tag is a hash of the image's inputs (see images/README.md); an image
# whose tag exists is not built again. A new image is checked on a throwaway
# network before it gets its tag, so a tag always names an image that worked.
#
# Usage: scripts/test-images.sh            # build what is missing
#        scripts/test-images.sh --verify   # also check images that were cached
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
TOPO_LOG_PREFIX=test-images
umask 022

readonly LABEL=topo.test-image=1
readonly CHECK_LABEL=topo.test-image-check=1
readonly NAMES=(consul mongo nginx)

verify_cached=0
for arg in "$@"; do
	case $arg in
	--verify) verify_cached=1 ;;
	-h | --help)
		sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0" >&2
		exit 0
		;;
	*) die "unknown argument '$arg' (usage: scripts/test-images.sh [--verify])" ;;
	esac
done

need_cmd docker "install Docker (apt-get install -y docker.io) and start dockerd"
docker info >/dev/null 2>&1 ||
	die "cannot reach the Docker engine (DOCKER_HOST=${DOCKER_HOST:-unix:///var/run/docker.sock}): start dockerd (e.g. 'dockerd >/var/log/dockerd.log 2>&1 &') and wait for 'docker info' to answer"
need_cmd sha256sum "install coreutils"
need_cmd timeout "install coreutils"
# The classic builder: BuildKit is not available on these engines.
export DOCKER_BUILDKIT=0

STATE="$(mktemp -d "${TMPDIR:-/tmp}/topo-test-images.XXXXXX")"
VERIFY_NET=""
VERIFY_CTRS=()
# verify_cleanup removes the containers and the network the checks made, and
# nothing else.
verify_cleanup() {
	local c
	for c in "${VERIFY_CTRS[@]}"; do
		docker rm -f -v "$c" >/dev/null 2>&1 || true
	done
	VERIFY_CTRS=()
	if [[ -n $VERIFY_NET ]]; then
		docker network rm "$VERIFY_NET" >/dev/null 2>&1 || true
	fi
	VERIFY_NET=""
}
cleanup() {
	verify_cleanup
	rm -rf "$STATE"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---------------------------------------------------------------------------
# Input hashes

# file_lines prints "<sha256>  <path>" for each file under the given paths
# (relative to the repository root), in a stable order.
file_lines() {
	local p f
	for p in "$@"; do
		while IFS= read -r f; do
			printf '%s  %s\n' "$(sha256sum <"$TOPO_ROOT/$f" | cut -c1-64)" "$f"
		done < <(cd "$TOPO_ROOT" && find "$p" -type f -print | LC_ALL=C sort)
	done
}

# short_hash reads a manifest on stdin and prints its first 12 hex digits.
short_hash() {
	sha256sum | cut -c1-12
}

# go_identity names the toolchain that builds the binaries: another Go version
# makes another binary, so another tag.
go_identity() {
	(cd "$TOPO_ROOT/tools/$1" && go env GOVERSION GOOS GOARCH) | tr '\n' ' '
}

image_exists() {
	docker image inspect "$1" >/dev/null 2>&1
}

# docker_build NAME CONTEXT HASH builds the context and stores the image ID in
# $STATE/NAME.iid. The output goes to a file: a pipe into head could kill the
# build with SIGPIPE.
docker_build() {
	local name=$1 ctx=$2 hash=$3 start
	start=$(date +%s)
	log "$name: docker build"
	if ! docker build --force-rm --label "$LABEL" --label "topo.test-image.inputs=$hash" \
		--iidfile "$STATE/$name.iid" "$ctx" >"$STATE/$name-build.log" 2>&1; then
		filter_build_log <"$STATE/$name-build.log" | tail -n 30 >&2
		die "$name: docker build failed (output above)"
	fi
	log "$name: image built in $(elapsed "$start") s"
}

# filter_build_log drops the legacy builder's deprecation notice.
filter_build_log() {
	grep -v -e '^DEPRECATED: The legacy builder' -e 'Install the buildx component' \
		-e 'https://docs.docker.com/go/buildx/' || true
}

# link_or_copy hard-links a big binary into a build context, or copies it when
# the context is on another filesystem.
link_or_copy() {
	ln -f "$1" "$2" 2>/dev/null || cp "$1" "$2"
}

# ---------------------------------------------------------------------------
# One job per image. Each writes $STATE/NAME.tag and, when it built a new
# image, $STATE/NAME.iid; they run in parallel.

# job_go_image NAME TOOL SCRIPT BINARY builds an image around a Go binary made
# by scripts/SCRIPT (consul or ferretdb), with the empty directories DIRS.
job_go_image() {
	local name=$1 tool=$2 binary=$3
	shift 3
	local hash tag start bin ctx d
	start=$(date +%s)
	need_go
	hash="$({
		go_identity "$tool"
		echo
		file_lines "images/$name" "tools/$tool/go.mod" "tools/$tool/go.sum" \
			"scripts/$tool.sh" scripts/lib.sh scripts/test-images.sh
	} | short_hash)"
	tag="topo-test/$name:$hash"
	echo "$tag" >"$STATE/$name.tag"
	if image_exists "$tag"; then
		log "$name: $tag exists: nothing to build"
		return
	fi
	bin="$("$TOPO_ROOT/scripts/$tool.sh" | tail -n 1)"
	[[ -x $bin ]] || die "$name: scripts/$tool.sh did not produce a binary"
	ctx="$STATE/ctx-$name"
	mkdir -p "$ctx/rootfs"
	cp "$TOPO_ROOT/images/$name/Dockerfile" "$ctx/"
	link_or_copy "$bin" "$ctx/$binary"
	for d in "$@"; do
		mkdir -p "$ctx/rootfs/$d"
	done
	chmod 1777 "$ctx/rootfs/tmp"
	docker_build "$name" "$ctx" "$hash"
	log "$name: done in $(elapsed "$start") s"
}

job_consul() {
	job_go_image consul consul consul tmp
}

job_mongo() {
	# /data/configdb exists in the official mongo image too.
	job_go_image mongo ferretdb ferretdb tmp data/db data/configdb state
}

# apt_candidate prints the version apt would install of a package, or nothing.
apt_candidate() {
	apt-cache policy "$1" 2>/dev/null | awk '$1 == "Candidate:" && $2 != "(none)" { print $2 }'
}

apt_update() {
	if ((EUID == 0)); then
		log "nginx: apt-get update"
		apt-get update -qq >&2 || log "nginx: apt-get update failed; going on with what is cached"
	else
		log "nginx: apt knows no nginx package and this is not root: run 'sudo apt-get update', then retry"
	fi
}

# nginx_debs prints a folder under TOPO_CACHE holding the nginx and
# nginx-common .deb files of the version apt offers, downloading them only when
# that version is not cached yet (offline-first: a cached version is used when
# apt cannot tell or fetch anything).
nginx_debs() {
	local base="$TOPO_CACHE/nginx/debs" ver dir tmp newest
	ver="$(apt_candidate nginx)"
	if [[ -z $ver ]]; then
		apt_update
		ver="$(apt_candidate nginx)"
	fi
	if [[ -z $ver ]]; then
		newest="$(find "$base" -mindepth 1 -maxdepth 1 -type d ! -name '*.tmp.*' -printf '%f\n' 2>/dev/null | sort -V | tail -n 1)"
		[[ -n $newest ]] ||
			die "nginx: apt offers no 'nginx' package and none is cached: run 'apt-get update' (Debian bookworm sources are needed), then retry"
		log "nginx: apt offers no nginx package: using the cached $newest"
		echo "$base/$newest"
		return
	fi
	dir="$base/$ver"
	if compgen -G "$dir/nginx_*.deb" >/dev/null && compgen -G "$dir/nginx-common_*.deb" >/dev/null; then
		echo "$dir"
		return
	fi
	mkdir -p "$base"
	tmp="$(mktemp -d "$dir.tmp.XXXXXX")"
	local -a opts=(-q)
	# As root apt drops to user _apt, which cannot write into this folder.
	((EUID == 0)) && opts+=(-o APT::Sandbox::User=root)
	log "nginx: apt-get download nginx=$ver nginx-common=$ver"
	if ! (cd "$tmp" && apt-get download "${opts[@]}" "nginx=$ver" "nginx-common=$ver" >&2); then
		# Stale package lists name files the mirror no longer has.
		rm -f "$tmp"/*.deb
		apt_update
		ver="$(apt_candidate nginx)"
		[[ -n $ver ]] || die "nginx: apt offers no 'nginx' package after apt-get update: check /etc/apt/sources.list"
		dir="$base/$ver"
		(cd "$tmp" && apt-get download "${opts[@]}" "nginx=$ver" "nginx-common=$ver" >&2) ||
			die "nginx: apt-get download nginx nginx-common failed: check that Debian's mirror is reachable, run 'apt-get update', retry"
	fi
	rm -rf "$dir"
	mv "$tmp" "$dir"
	echo "$dir"
}

job_nginx() {
	local start debs x lib line ctx r f hash tag
	local -a libs=()
	start=$(date +%s)
	need_cmd apt-get "the nginx stand-in is made from Debian's nginx package: run this on Debian bookworm"
	need_cmd dpkg-deb "install dpkg"
	need_cmd ldd "install libc-bin"
	debs="$(with_lock nginx-debs nginx_debs)"
	x="$STATE/nginx-x"
	mkdir -p "$x"
	for f in "$debs"/*.deb; do
		dpkg-deb -x "$f" "$x"
	done
	[[ -x $x/usr/sbin/nginx ]] || die "nginx: $debs holds no usr/sbin/nginx: delete that folder and retry"

	# Exactly the libraries the binary links, taken from this machine.
	while IFS= read -r line; do
		case $line in
		*"not found"*)
			die "nginx: needs ${line%% *}, which this machine lacks: install it (apt-get install -y libssl3 libpcre2-8-0 libcrypt1 zlib1g) and retry"
			;;
		*"=> /"*)
			lib="${line#*=> }"
			libs+=("${lib%% (*}")
			;;
		/*) libs+=("${line%% (*}") ;;
		esac
	done < <(ldd "$x/usr/sbin/nginx" | sed 's/^[[:space:]]*//')
	((${#libs[@]} > 0)) || die "nginx: ldd listed no libraries for usr/sbin/nginx"

	hash="$({
		file_lines images/nginx scripts/lib.sh scripts/test-images.sh
		for f in "$debs"/*.deb; do
			printf '%s  %s\n' "$(sha256sum <"$f" | cut -c1-64)" "$(basename "$f")"
		done
		for lib in "${libs[@]}"; do
			printf '%s  %s\n' "$(sha256sum <"$lib" | cut -c1-64)" "$lib"
		done
	} | short_hash)"
	tag="topo-test/nginx:$hash"
	echo "$tag" >"$STATE/nginx.tag"
	if image_exists "$tag"; then
		log "nginx: $tag exists: nothing to build"
		return
	fi
	log "nginx: $(basename "$debs") with ${#libs[@]} libraries"

	ctx="$STATE/ctx-nginx"
	r="$ctx/rootfs"
	mkdir -p "$r"
	cp "$TOPO_ROOT/images/nginx/Dockerfile" "$ctx/"
	cp -R "$TOPO_ROOT/images/nginx/rootfs/." "$r/"
	install -D -m 0755 "$x/usr/sbin/nginx" "$r/usr/sbin/nginx"
	for f in mime.types fastcgi_params fastcgi.conf scgi_params uwsgi_params; do
		install -m 0644 "$x/etc/nginx/$f" "$r/etc/nginx/$f"
	done
	install -m 0644 "$x/usr/share/nginx/html/index.html" "$r/usr/share/nginx/html/index.html"
	for lib in "${libs[@]}"; do
		mkdir -p "$r$(dirname "$lib")"
		cp -L "$lib" "$r$lib"
	done
	# The folders Debian's build of nginx expects (see nginx -V): temp files in
	# /var/lib/nginx, pid in /run; plus the official image's /var/cache/nginx.
	mkdir -p "$r/tmp" "$r/run/lock" "$r/var/lib/nginx" "$r/var/cache/nginx" "$r/var/log/nginx" "$r/var/www"
	ln -s /run "$r/var/run"
	ln -s /run/lock "$r/var/lock"
	# Like the official image: logs reach `docker logs`.
	ln -s /dev/stdout "$r/var/log/nginx/access.log"
	ln -s /dev/stderr "$r/var/log/nginx/error.log"
	find "$r" -type d -exec chmod 0755 {} +
	chmod 1777 "$r/tmp"
	find "$r/etc" "$r/usr/share" -type f -exec chmod 0644 {} +

	docker_build nginx "$ctx" "$hash"
	log "nginx: done in $(elapsed "$start") s"
}

# ---------------------------------------------------------------------------
# Checks: each image does what a deployer relies on, on a network of our own.

# http_req METHOD PORT PATH [BODY] sends one HTTP/1.0 request to
# 127.0.0.1:PORT and prints the raw response. Plain bash, so no curl needed.
http_req() {
	# shellcheck disable=SC2016 # expanded by the inner bash
	timeout 5 bash -c '
		exec 3<>"/dev/tcp/127.0.0.1/$1" || exit 1
		printf "%s %s HTTP/1.0\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s" \
			"$2" "$3" "${#4}" "$4" >&3
		cat <&3
	' _ "$2" "$1" "$3" "${4:-}" 2>/dev/null
}

# http_expect PORT PATH STATUS BODY_REGEX succeeds when GET PATH answers with
# that status and a body matching the regex.
http_expect() {
	local resp body
	resp="$(http_req GET "$1" "$2")" || return 1
	[[ $resp == HTTP/1.?" $3 "* ]] || return 1
	body="${resp#*$'\r\n\r\n'}"
	[[ $body =~ $4 ]]
}

# mongo_ping PORT sends the MongoDB command {ping: 1} as an OP_MSG and succeeds
# when the reply holds ok: 1.0.
mongo_ping() {
	local reply
	# shellcheck disable=SC2016 # expanded by the inner bash
	reply="$(timeout 5 bash -c '
		exec 3<>"/dev/tcp/127.0.0.1/$1" || exit 1
		# header (length 51, request 1, response-to 0, opcode 2013), flags 0,
		# section kind 0, then the BSON document {ping: int32 1, $db: "admin"}
		printf "\x33\x00\x00\x00\x01\x00\x00\x00\x00\x00\x00\x00\xdd\x07\x00\x00\x00\x00\x00\x00\x00\x1e\x00\x00\x00\x10ping\x00\x01\x00\x00\x00\x02\$db\x00\x06\x00\x00\x00admin\x00\x00" >&3
		len=$(head -c 4 <&3 | od -An -tu4 | tr -d " ")
		[[ $len =~ ^[0-9]+$ ]] && ((len > 4 && len < 65536)) || exit 1
		head -c $((len - 4)) <&3 | od -An -tx1 -v | tr -d "\n"
	' _ "$1" 2>/dev/null)" || return 1
	[[ $reply == *'01 6f 6b 00 00 00 00 00 00 00 f0 3f'* ]]
}

# wait_for SECONDS WHAT CONTAINER CMD... retries CMD until it succeeds; on
# timeout it shows the container's log and fails.
wait_for() {
	local secs=$1 what=$2 ctr=$3
	shift 3
	local deadline=$(($(date +%s) + secs))
	until "$@"; do
		if (($(date +%s) >= deadline)); then
			log "check failed: $what within $secs s; last lines of $ctr's log:"
			docker logs --tail 20 "$ctr" >&2 2>&1 || true
			return 1
		fi
		sleep 0.2
	done
	log "ok: $what"
}

# published PORT of CONTAINER on 127.0.0.1.
published() {
	local out
	out="$(docker port "$1" "$2/tcp" | sed -n 's/^127\.0\.0\.1://p')"
	echo "${out%%$'\n'*}"
}

# new_ctr NAME ARGS... creates a container on the check network, recorded for
# cleanup before it exists so an interrupted run still removes it.
new_ctr() {
	local name="$VERIFY_NET-$1"
	shift
	VERIFY_CTRS+=("$name")
	docker create --name "$name" --label "$CHECK_LABEL" --network "$VERIFY_NET" "$@" >/dev/null || return 1
}

verify_images() {
	local consul=$1 mongo=$2 nginx=$3 start port consul_ip out conf
	start=$(date +%s)
	VERIFY_NET="topo-imgcheck-$(od -An -N4 -tx1 /dev/urandom | tr -d ' \n')"
	log "checking the images on network $VERIFY_NET"
	docker network create --label "$CHECK_LABEL" "$VERIFY_NET" >/dev/null || return 1

	# consul, created with the Cmd a deployer gives the official image.
	new_ctr consul -p 127.0.0.1::8500 "$consul" agent -dev -client 0.0.0.0 || return 1
	docker start "$VERIFY_NET-consul" >/dev/null || return 1
	port="$(published "$VERIFY_NET-consul" 8500)"
	wait_for 30 "consul answers /v1/status/leader" "$VERIFY_NET-consul" \
		http_expect "$port" /v1/status/leader 200 '^"[0-9.]+:8300"' || return 1
	VERIFY_CTRS+=("$VERIFY_NET-probe")
	out="$(docker run --rm --name "$VERIFY_NET-probe" --label "$CHECK_LABEL" --network "$VERIFY_NET" \
		"$consul" members -http-addr="http://$VERIFY_NET-consul:8500" 2>&1)" || {
		log "check failed: consul HTTP from another container: $out"
		return 1
	}
	[[ $out == *alive* ]] || {
		log "check failed: consul members from another container: $out"
		return 1
	}
	log "ok: consul HTTP from another container by name"
	# A service with the agent's address on our network, for nginx to find by
	# Consul DNS below (the dev agent itself advertises 127.0.0.1).
	consul_ip="$(docker inspect -f "{{(index .NetworkSettings.Networks \"$VERIFY_NET\").IPAddress}}" "$VERIFY_NET-consul")"
	[[ "$(http_req PUT "$port" /v1/agent/service/register \
		"{\"Name\":\"topo-imgcheck\",\"Address\":\"$consul_ip\",\"Port\":8500}")" == HTTP/1.?" 200 "* ]] || {
		log "check failed: registering a service in consul"
		return 1
	}

	# mongo: the wire protocol on 27017.
	new_ctr mongo -p 127.0.0.1::27017 "$mongo" || return 1
	docker start "$VERIFY_NET-mongo" >/dev/null || return 1
	port="$(published "$VERIFY_NET-mongo" 27017)"
	wait_for 30 "ferretdb answers a MongoDB ping on 27017" "$VERIFY_NET-mongo" mongo_ping "$port" || return 1

	# nginx with its default conf.
	new_ctr nginx -p 127.0.0.1::80 "$nginx" || return 1
	docker start "$VERIFY_NET-nginx" >/dev/null || return 1
	port="$(published "$VERIFY_NET-nginx" 80)"
	wait_for 30 "nginx serves its default page on 80" "$VERIFY_NET-nginx" \
		http_expect "$port" / 200 'Welcome to nginx!' || return 1
	http_expect "$port" /no-such-page 404 '' || {
		log "check failed: nginx does not answer 404 for a missing page"
		return 1
	}

	# nginx with a conf copied in between create and start, as the deployer
	# does: it finds a service by Consul DNS (udp 8600) and proxies to it.
	conf="$STATE/imgcheck.conf"
	cat >"$conf" <<EOF
server {
    listen 80;
    resolver $VERIFY_NET-consul:8600 valid=1s ipv6=off;
    resolver_timeout 2s;
    location = /topo-imgcheck { return 200 "replaced conf\n"; }
    location / {
        set \$backend topo-imgcheck.service.consul;
        proxy_pass http://\$backend:8500;
        proxy_connect_timeout 1s;
    }
}
EOF
	new_ctr nginx-conf -p 127.0.0.1::80 "$nginx" || return 1
	docker cp "$conf" "$VERIFY_NET-nginx-conf:/etc/nginx/conf.d/default.conf" || return 1
	docker start "$VERIFY_NET-nginx-conf" >/dev/null || return 1
	port="$(published "$VERIFY_NET-nginx-conf" 80)"
	wait_for 30 "nginx serves a conf copied in before start" "$VERIFY_NET-nginx-conf" \
		http_expect "$port" /topo-imgcheck 200 'replaced conf' || return 1
	wait_for 30 "nginx proxies to a service found by Consul DNS" "$VERIFY_NET-nginx-conf" \
		http_expect "$port" /v1/status/leader 200 '^"[0-9.]+:8300"' || return 1
	out="$(docker logs "$VERIFY_NET-nginx-conf" 2>/dev/null)"
	[[ $out == *'GET /topo-imgcheck'* ]] || {
		log "check failed: nginx's access log does not reach docker logs"
		return 1
	}
	log "ok: nginx access log reaches docker logs"
	log "all checks passed in $(elapsed "$start") s"
}

# ---------------------------------------------------------------------------

total_start=$(date +%s)
declare -A pids=()
for name in "${NAMES[@]}"; do
	"job_$name" &
	pids[$name]=$!
done
failed=()
for name in "${NAMES[@]}"; do
	wait "${pids[$name]}" || failed+=("$name")
done
((${#failed[@]} == 0)) || die "building ${failed[*]} failed (see above)"

declare -A tags=() refs=()
built=()
for name in "${NAMES[@]}"; do
	tags[$name]="$(<"$STATE/$name.tag")"
	if [[ -f $STATE/$name.iid ]]; then
		refs[$name]="$(<"$STATE/$name.iid")"
		built+=("$name")
	else
		refs[$name]="${tags[$name]}"
	fi
done

if ((${#built[@]} > 0 || verify_cached)); then
	ok=0
	verify_images "${refs[consul]}" "${refs[mongo]}" "${refs[nginx]}" || ok=$?
	verify_cleanup
	if ((ok != 0)); then
		# Drop the images this run built (their check containers are gone now),
		# unless something tagged one meanwhile (a run alongside this one).
		for name in "${built[@]}"; do
			if [[ "$(docker image inspect -f '{{len .RepoTags}}' "${refs[$name]}" 2>/dev/null)" == 0 ]]; then
				docker rmi "${refs[$name]}" >/dev/null 2>&1 || true
			fi
		done
		die "the images failed their checks (see above): fix images/ or the scripts, then run again"
	fi
	for name in "${built[@]}"; do
		docker tag "${refs[$name]}" "${tags[$name]}"
		log "tagged ${tags[$name]}"
	done
fi
log "ready in $(elapsed "$total_start") s"

printf 'export TOPO_DEMO_IMAGE_CONSUL=%s\n' "${tags[consul]}"
printf 'export TOPO_DEMO_IMAGE_MONGO=%s\n' "${tags[mongo]}"
printf 'export TOPO_DEMO_IMAGE_NGINX=%s\n' "${tags[nginx]}"
