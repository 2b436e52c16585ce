/* Copied unchanged from ../shared/bench/janus/lo_shim.c.
 * LD_PRELOAD shim for Janus: Janus (ice.c, janus_ice_setup_local) skips every
 * interface flagged IFF_LOOPBACK when choosing ICE host addresses, so ICE can never
 * use 127.0.0.1. This wrapper clears IFF_LOOPBACK on "lo" in getifaddrs() results,
 * so `ice_enforce_list = "127.0.0.1"` works and all media sockets bind to 127.0.0.1.
 * Build: gcc -shared -fPIC -O2 -o $WORKDIR/lo_shim.so lo_shim.c -ldl
 * Use:   LD_PRELOAD=$WORKDIR/lo_shim.so janus -F $WORKDIR/etc
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <string.h>

int getifaddrs(struct ifaddrs **ifap) {
    static int (*real)(struct ifaddrs **) = 0;
    if (!real)
        real = (int (*)(struct ifaddrs **))dlsym(RTLD_NEXT, "getifaddrs");
    int r = real(ifap);
    if (r == 0) {
        for (struct ifaddrs *i = *ifap; i; i = i->ifa_next)
            if (i->ifa_name && strcmp(i->ifa_name, "lo") == 0)
                i->ifa_flags &= ~IFF_LOOPBACK;
    }
    return r;
}
