#!/bin/sh
# gen lab: `ip` as a device's interfaces.sh sees it on a kernel without XFRM interfaces (kernel-libipsec).
# `ip link add NAME type xfrm if_id N ...` becomes a veth pair NAME <-> NAME-gl: what the script routes
# into NAME comes out of NAME-gl, where a policy rule hands it to charon's TUN device (ipsec0), and
# kernel-libipsec picks the SA by the packet's addresses. Every other command runs unchanged.
# Environment: GEN_LAB_REAL_IP (the real ip binary), GEN_LAB_TABLE (the table that routes to ipsec0).
real="$GEN_LAB_REAL_IP"
xfrm=no; add=no; name=""; prev=""; n=0
for a in "$@"; do
  n=$((n + 1))
  [ "$prev" = type ] && [ "$a" = xfrm ] && xfrm=yes
  [ "$n" = 2 ] && [ "$prev" = link ] && [ "$a" = add ] && add=yes
  if [ "$add" = yes ] && [ -z "$name" ] && [ "$n" -ge 3 ] && [ "$a" != name ]; then name="$a"; fi
  prev="$a"
done
if [ "$xfrm" != yes ] || [ "$add" != yes ]; then
  exec "$real" "$@"
fi
twin="$(printf %.12s "$name")-gl"
"$real" link add "$name" type veth peer name "$twin" || exit $?
"$real" link set "$twin" up || exit $?
"$real" rule add iif "$twin" table "$GEN_LAB_TABLE" pref 100 || exit $?
for key in proxy_arp accept_local forwarding; do
  echo 1 > "/proc/sys/net/ipv4/conf/$twin/$key"
done
