# Network namespace test bed: the hosts of strongSwan's KVM testing
# environment (moon, sun, winnetou, alice, ...) as network namespaces, with
# the same names and addresses. Sourced by testing/scenario and testing/demo.
#
# Host NAME is namespace $TB_NS-NAME (TB_NS defaults to "qkd", another
# value runs a second test bed beside the first); its files (config, pid
# dir, /var/log)
# live in $TB_RUN/NAME and are bound over the real paths by hostwrap.
# Three bridges in namespace $TB_NS-sw stand for strongSwan's networks:
#   br0: 192.168.0.0/24, fec0::/16  (moon, sun, winnetou, carol, dave)
#   br1: 10.1.0.0/16, fec1::/16     (moon's inner net: alice, venus)
#   br2: 10.2.0.0/16, fec2::/16     (sun's inner net: bob)
# With TB_HUB=1 (set in a scenario's test.conf; strongSwan's KVM runner
# ignores it) the bridges forget learned addresses at once (ageing_time 0)
# and flood every frame to every port like a hub, so a third host (e.g.
# carol) sees and can replay the traffic between two others.

TB_PREFIX=${STRONGSWAN_PREFIX:-/opt/strongswan-qkd}
TB_NS=${TB_NS:-qkd}
TB_RUN=${TB_RUN:-/run/$TB_NS-testbed}
TB_LIB=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
TB_SW=$TB_NS-sw

# host -> "bridge ipv4/len ipv6/len [gw4 gw6]" per interface (eth0, eth1)
declare -A TB_ETH0=(
	[moon]="br0 192.168.0.1/24 fec0::1/16"
	[sun]="br0 192.168.0.2/24 fec0::2/16"
	[winnetou]="br0 192.168.0.15/24 fec0::15/16"
	[carol]="br0 192.168.0.100/24 fec0::10/16"
	[dave]="br0 192.168.0.200/24 fec0::20/16"
	[alice]="br1 10.1.0.10/16 fec1::10/16 10.1.0.1 fec1::1"
	[venus]="br1 10.1.0.20/16 fec1::20/16 10.1.0.1 fec1::1"
	[bob]="br2 10.2.0.10/16 fec2::10/16 10.2.0.1 fec2::1"
)
declare -A TB_ETH1=(
	[moon]="br1 10.1.0.1/16 fec1::1/16"
	[sun]="br2 10.2.0.1/16 fec2::1/16"
)

tb_log() { echo "testbed: $*" >&2; }

# Hosts that run in the Debian root $TB_CHROOT_DIR (testing/setup-debian)
# instead of this machine's files, e.g. "moon sun" (see hostwrap)
TB_CHROOT_HOSTS=${TB_CHROOT_HOSTS:-}
TB_CHROOT_DIR=${TB_CHROOT_DIR:-}

# Run a command on a host: tb_exec HOST command [args...]
tb_exec()
{
	local host=$1 chroot=
	shift
	if [[ " $TB_CHROOT_HOSTS " == *" $host "* ]]; then
		chroot=$TB_CHROOT_DIR
	fi
	TB_CHROOT=$chroot ip netns exec "$TB_NS-$host" "$TB_LIB/hostwrap" \
		"$TB_RUN/$host" "$TB_PREFIX" "$@"
}

# Run a shell command line on a host: tb_sh HOST "command line"
tb_sh()
{
	tb_exec "$1" bash -c "$2"
}

# Configure one interface of a host: tb_iface HOST IFNAME SPEC
tb_iface()
{
	local host=$1 ifname=$2 br v4 v6 gw4 gw6
	read -r br v4 v6 gw4 gw6 <<<"$3"
	ip -n $TB_SW link add "$host-$ifname" type veth peer name "$ifname" \
		netns "$TB_NS-$host"
	ip -n $TB_SW link set "$host-$ifname" master "$br" up
	ip -n "$TB_NS-$host" link set "$ifname" up
	ip -n "$TB_NS-$host" addr add "$v4" dev "$ifname"
	ip -n "$TB_NS-$host" addr add "$v6" dev "$ifname" nodad
	if [ -n "$gw4" ]; then
		ip -n "$TB_NS-$host" route add default via "$gw4"
		ip -n "$TB_NS-$host" -6 route add default via "$gw6"
	fi
}

# Create a host: namespace, interfaces, files. Its etc/ holds what the host
# has on top of the installed strongSwan configuration (see hostwrap).
tb_host_create()
{
	local host=$1 dir=$TB_RUN/$1
	[ -n "${TB_ETH0[$host]:-}" ] || { tb_log "unknown host '$host'"; return 1; }
	ip netns add "$TB_NS-$host"
	ip -n "$TB_NS-$host" link set lo up
	tb_iface "$host" eth0 "${TB_ETH0[$host]:-}"
	[ -z "${TB_ETH1[$host]:-}" ] || tb_iface "$host" eth1 "${TB_ETH1[$host]:-}"
	ip netns exec "$TB_NS-$host" sysctl -qw net.ipv4.ip_forward=1 \
		net.ipv6.conf.all.forwarding=1
	mkdir -p "$dir/etc" "$dir/run" "$dir/log"
	# strongSwan's host names, no resolver
	cp "$TB_LIB/hosts" "$dir/etc/hosts"
	: > "$dir/etc/resolv.conf"
	echo "$host" > "$dir/etc/hostname"
	# the host's default files, like strongSwan's testing/hosts/
	if [ -d "$TB_LIB/../hosts/$host" ]; then
		cp -a "$TB_LIB/../hosts/$host/." "$dir/"
	fi
	# charon logs to /var/log/daemon.log like on strongSwan's KVM guests
	cat > "$dir/strongswan-testbed.conf" <<EOC
include /etc/strongswan.conf
charon {
	filelog {
		daemon {
			path = /var/log/daemon.log
			time_format = %b %e %T
			ike_name = yes
			append = yes
			flush_line = yes
			default = 1
		}
	}
	syslog {
		daemon {
			default = -1
		}
	}
}
EOC
}

# Create the hosts given as arguments (and the bridges)
tb_create()
{
	local host
	tb_destroy
	mkdir -p "$TB_RUN"
	ip netns add $TB_SW
	for br in br0 br1 br2; do
		ip -n $TB_SW link add $br type bridge
		if [ "${TB_HUB:-}" = 1 ]; then
			ip -n $TB_SW link set $br type bridge ageing_time 0
		fi
		ip -n $TB_SW link set $br up
	done
	for host in "$@"; do
		tb_host_create "$host" || return 1
	done
	echo "$@" > "$TB_RUN/hosts"
}

# Install a scenario's files for a host (hosts/HOST/etc/... -> /etc/...):
# tb_host_files HOST SRCDIR
tb_host_files()
{
	[ -d "$2" ] || return 0
	cp -a "$2/." "$TB_RUN/$1/"
}

# Tear everything down: processes, namespaces, files. Safe to call twice.
tb_destroy()
{
	local ns pids
	for ns in $(ip netns list 2>/dev/null | awk -v p="$TB_NS-" 'index($1, p) == 1 {print $1}'); do
		pids=$(ip netns pids "$ns" 2>/dev/null)
		[ -z "$pids" ] || kill $pids 2>/dev/null
	done
	sleep 0.2
	for ns in $(ip netns list 2>/dev/null | awk -v p="$TB_NS-" 'index($1, p) == 1 {print $1}'); do
		pids=$(ip netns pids "$ns" 2>/dev/null)
		[ -z "$pids" ] || kill -9 $pids 2>/dev/null
		ip netns del "$ns" 2>/dev/null
	done
	rm -rf "$TB_RUN"
}
