/*
 * Copyright (C) 2026 The strongswan-qkd authors
 *
 * This program is free software; you can redistribute it and/or modify it
 * under the terms of the GNU General Public License as published by the
 * Free Software Foundation; either version 2 of the License, or (at your
 * option) any later version.  See <http://www.fsf.org/copyleft/gpl.txt>.
 *
 * This program is distributed in the hope that it will be useful, but
 * WITHOUT ANY WARRANTY; without even the implied warranty of MERCHANTABILITY
 * or FITNESS FOR A PARTICULAR PURPOSE.  See the GNU General Public License
 * for more details.
 */

/*
 * qkd-doh-attack: hostile DOH traffic generator for the netns test bed.
 *
 * Sends IPv6 packets whose Destination Options Header (Next Header 60)
 * carries QK messages in option 0x50 (docs/doh-profile.md) to --target,
 * with the IPv6 source set to --spoof (the other gateway): spoofed,
 * replayed, truncated, oversized and garbage messages and a flood of
 * AUTH_KEY_OFFERs. Headers and messages are built by hand (libc and Linux
 * headers only), sent through an IPPROTO_RAW socket (own IPv6 header) and,
 * for replay, captured with an AF_PACKET socket. Needs CAP_NET_RAW only.
 * See README.md next to this file.
 */

#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netdb.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/ip6.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <linux/if_ether.h>
#include <linux/if_packet.h>

/* IPv6 Next Header values (RFC 8200) */
#define NH_HOP 0
#define NH_ROUTING 43
#define NH_FRAGMENT 44
#define NH_NONE 59
#define NH_DSTOPTS 60

#define IP6_HDR_LEN 40
#define FRAG_HDR_LEN 8
#define HOP_LIMIT 64

/* options of a Destination Options Header */
#define OPT_PAD1 0x00
#define OPT_PADN 0x01
#define OPT_QK 0x50

/* limits of the profile */
#define MAX_OPT_DATA 255
#define MAX_DOH 2048
#define MAX_SYNC_BITMAP 253
#define MAX_RANGE_DATA 240
#define MAX_ANNOUNCE 15
#define KEYID_LEN 16
#define MAC_LEN 16

/* QK message types (registry in docs/doh-profile.md) */
#define T_REQ_SYNC 0x00
#define T_ACK_AVAILABLE 0x01
#define T_REQ_NEGOTIATE 0x02
#define T_CONFIRM_NEGOTIATE 0x03
#define T_REQ_SYNC_RANGE 0x80
#define T_ACK_AVAILABLE_RANGE 0x81
#define T_KEY_ANNOUNCE 0x82
#define T_ANNOUNCE_ACK 0x83
#define T_AUTH 0x84
#define T_AUTH_KEY_OFFER 0x85

/* range flags and AUTH_KEY_OFFER flags */
#define RANGE_DEFLATE 0x01
#define RANGE_RESET 0x02
#define OFFER_RANGE 0x01
#define OFFER_REQUEST 0x02

/* REQ_NEGOTIATE TLVs */
#define TLV_SURVIVAL 0x01
#define TLV_SEED 0x02
#define TLV_CHANNEL 0x03
#define TLV_KEYID 0x80

/* replay: copies sent at once, random delay of the next one */
#define REPLAY_NOW 2
#define REPLAY_DELAY_MIN 1.0
#define REPLAY_DELAY_MAX 5.0
/* replay: most resends pending, captured packets remembered */
#define REPLAY_QUEUE 4096
#define REPLAY_SEEN 1024

/* most packets a mode sends in one go when it is behind its rate */
#define MAX_BURST 64

enum mode {
	M_SPOOF,
	M_REPLAY,
	M_TRUNCATED,
	M_OVERSIZED,
	M_GARBAGE,
	M_FLOOD,
	M_COUNT,
};

static const char *mode_names[M_COUNT] = {
	"spoof", "replay", "truncated", "oversized", "garbage", "flood",
};

/* ---------------------------------------------------------------------- */
/* command line, state                                                     */

static struct {
	const char *iface;
	int ifindex;
	int mtu;
	struct in6_addr target;
	struct in6_addr spoof;
	double duration;
	double rate;
	double late;
	unsigned modes;
	FILE *log;
	uint64_t seed;
} opt = {
	.duration = 10,
	.rate = 100,
	.late = 35,
	.modes = (1 << M_COUNT) - 1,
};

static struct {
	uint64_t sent;
	uint64_t errors;
	uint64_t fragments;
	uint64_t captured;
	uint64_t cycles;
} stats[M_COUNT];

static int raw_fd = -1;
static int packet_fd = -1;
static double t_start;
static volatile sig_atomic_t stop;

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void die(const char *fmt, ...)
{
	va_list args;

	fprintf(stderr, "qkd-doh-attack: ");
	va_start(args, fmt);
	vfprintf(stderr, fmt, args);
	va_end(args);
	fprintf(stderr, "\n");
	exit(1);
}

static void logf_(const char *fmt, ...)
{
	va_list args;

	if (!opt.log)
	{
		return;
	}
	fprintf(opt.log, "%8.3f ", now() - t_start);
	va_start(args, fmt);
	vfprintf(opt.log, fmt, args);
	va_end(args);
}

static void log_hex(const uint8_t *p, size_t len)
{
	size_t i;

	if (!opt.log)
	{
		return;
	}
	for (i = 0; i < len; i++)
	{
		fprintf(opt.log, "%02x", p[i]);
	}
}

/* ---------------------------------------------------------------------- */
/* random numbers (xorshift64*, seeded from getrandom() or --seed)         */

static uint64_t rng;

static uint64_t rnd64(void)
{
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return rng * 0x2545F4914F6CDD1DULL;
}

/* uniform in [lo, hi] */
static uint32_t rnd_range(uint32_t lo, uint32_t hi)
{
	return lo + (uint32_t)(rnd64() % ((uint64_t)hi - lo + 1));
}

static void rnd_bytes(uint8_t *p, size_t len)
{
	while (len--)
	{
		*p++ = rnd64() >> 56;
	}
}

static void rnd_keyid(uint8_t *p)
{
	do
	{
		rnd_bytes(p, KEYID_LEN);
	}
	while (!p[0] && !memcmp(p, p + 1, KEYID_LEN - 1));
}

/* ---------------------------------------------------------------------- */
/* Option Data and Destination Options Headers                             */

/* Option Data (at most 255 bytes in an option, more for scratch use) */
typedef struct {
	uint8_t d[512];
	size_t len;
} opt_t;

static void put8(opt_t *o, uint8_t v)
{
	if (o->len < sizeof(o->d))
	{
		o->d[o->len++] = v;
	}
}

static void put16(opt_t *o, uint16_t v)
{
	put8(o, v >> 8);
	put8(o, v);
}

static void put32(opt_t *o, uint32_t v)
{
	put16(o, v >> 16);
	put16(o, v);
}

static void put_bytes(opt_t *o, const uint8_t *p, size_t len)
{
	while (len--)
	{
		put8(o, *p++);
	}
}

static void put_rnd(opt_t *o, size_t len)
{
	while (len--)
	{
		put8(o, rnd64() >> 56);
	}
}

/* a Destination Options Header (or any bytes after the IPv6 header) */
typedef struct {
	uint8_t b[MAX_DOH + 512];
	size_t len;
} doh_t;

static void doh_init(doh_t *h, uint8_t next_header)
{
	h->b[0] = next_header;
	h->b[1] = 0;
	h->len = 2;
}

/* add an option, data truncated to 255 bytes and to what fits */
static void doh_opt(doh_t *h, uint8_t type, const uint8_t *data, size_t len)
{
	if (len > MAX_OPT_DATA)
	{
		len = MAX_OPT_DATA;
	}
	if (h->len + 2 + len > sizeof(h->b))
	{
		return;
	}
	h->b[h->len++] = type;
	h->b[h->len++] = len;
	memcpy(h->b + h->len, data, len);
	h->len += len;
}

static void doh_raw(doh_t *h, const uint8_t *data, size_t len)
{
	if (h->len + len <= sizeof(h->b))
	{
		memcpy(h->b + h->len, data, len);
		h->len += len;
	}
}

/* Pad1/PadN (zero content) to a multiple of 8 octets */
static void doh_pad(doh_t *h)
{
	size_t pad = (8 - h->len % 8) % 8;

	if (pad == 1)
	{
		h->b[h->len++] = OPT_PAD1;
	}
	else if (pad)
	{
		h->b[h->len++] = OPT_PADN;
		h->b[h->len++] = pad - 2;
		memset(h->b + h->len, 0, pad - 2);
		h->len += pad - 2;
	}
}

/* pad and set Hdr Ext Len to match */
static void doh_finish(doh_t *h)
{
	doh_pad(h);
	h->b[1] = h->len / 8 - 1;
}

/* an AUTH option with a random MAC, current time, per-run sequence */
static void make_auth(opt_t *o)
{
	static uint32_t seq;

	if (!seq)
	{
		seq = rnd_range(1, 1 << 20);
	}
	o->len = 0;
	put8(o, T_AUTH);
	put8(o, rnd64() >> 56);		/* Key Ref */
	put32(o, time(NULL));
	put32(o, seq++);
	put_rnd(o, MAC_LEN);
}

/* a well-formed header: message, AUTH (if auth), padding */
static void build_doh(doh_t *h, opt_t *msg, bool auth)
{
	opt_t a;

	doh_init(h, NH_NONE);
	doh_opt(h, OPT_QK, msg->d, msg->len);
	if (auth)
	{
		make_auth(&a);
		doh_opt(h, OPT_QK, a.d, a.len);
	}
	doh_finish(h);
}

/* fill the header with options of the given type up to exactly target
 * bytes (data zero for PadN, random otherwise; Pad1 for a single byte) */
static void doh_fill(doh_t *h, size_t target, uint8_t type)
{
	uint8_t data[MAX_OPT_DATA];
	size_t room, len;

	while (h->len < target)
	{
		room = target - h->len;
		if (room == 1)
		{
			h->b[h->len++] = OPT_PAD1;
			break;
		}
		len = room - 2;
		if (len > MAX_OPT_DATA)
		{	/* don't leave a single byte behind */
			len = room - 2 - MAX_OPT_DATA == 1 ? MAX_OPT_DATA - 1
											   : MAX_OPT_DATA;
		}
		if (type == OPT_PADN)
		{
			memset(data, 0, len);
		}
		else
		{
			rnd_bytes(data, len);
		}
		doh_opt(h, type, data, len);
	}
}

/* ---------------------------------------------------------------------- */
/* QK messages                                                             */

/* 2-bit statuses, bits after the last key zero */
static void put_bitmap(opt_t *o, uint32_t keys)
{
	size_t len = (keys + 3) / 4, i;
	uint8_t b;

	for (i = 0; i < len; i++)
	{
		b = rnd64() >> 56;
		if (i == len - 1 && keys % 4)
		{
			b &= ~(0xff >> (2 * (keys % 4)));
		}
		put8(o, b);
	}
}

static void msg_sync(opt_t *o, uint8_t type, size_t bitmap_len)
{
	o->len = 0;
	put8(o, type);
	put8(o, rnd64() >> 56);		/* Key Offset */
	put_rnd(o, bitmap_len);
}

/* variant 0: KEYID TLV only; 1: every TLV; 2: seed (seed_len) and KEYID */
static void msg_negotiate(opt_t *o, int variant, size_t seed_len)
{
	uint8_t keyid[KEYID_LEN];

	o->len = 0;
	put8(o, T_REQ_NEGOTIATE);
	put8(o, 0);
	put32(o, rnd_range(1, 100000));	/* Key Index */
	put8(o, 0x02);					/* HMAC-SHA256 */
	put8(o, 0x01);					/* AES-256-GCM */
	put32(o, time(NULL));
	if (variant == 1)
	{
		put8(o, TLV_SURVIVAL);
		put8(o, 4);
		put32(o, rnd_range(1, 86400));
		put8(o, TLV_CHANNEL);
		put8(o, 8);
		put_rnd(o, 8);
	}
	if (variant >= 1)
	{
		put8(o, TLV_SEED);
		put8(o, seed_len);
		put_rnd(o, seed_len);
	}
	rnd_keyid(keyid);
	put8(o, TLV_KEYID);
	put8(o, KEYID_LEN);
	put_bytes(o, keyid, KEYID_LEN);
}

static void msg_confirm(opt_t *o, uint8_t status)
{
	o->len = 0;
	put8(o, T_CONFIRM_NEGOTIATE);
	put8(o, status);
	put32(o, time(NULL));
}

/* a plain range message covering count keys (at most 960) */
static void msg_range(opt_t *o, uint8_t type, uint8_t flags, uint32_t count)
{
	uint32_t start = rnd_range(1, 1000000);

	o->len = 0;
	put8(o, type);
	put8(o, flags);
	put32(o, start);
	put32(o, count);
	put32(o, start - 1 + count + rnd_range(0, 1000000));
	put_bitmap(o, count);
}

static void msg_announce(opt_t *o, uint8_t count)
{
	uint8_t keyid[KEYID_LEN];
	int i;

	o->len = 0;
	put8(o, T_KEY_ANNOUNCE);
	put16(o, rnd64() >> 48);
	put8(o, count);
	for (i = 0; i < count; i++)
	{
		rnd_keyid(keyid);
		put_bytes(o, keyid, KEYID_LEN);
	}
}

static void msg_announce_ack(opt_t *o, uint8_t status, uint8_t count)
{
	uint8_t keyid[KEYID_LEN];
	int i;

	o->len = 0;
	put8(o, T_ANNOUNCE_ACK);
	put16(o, rnd64() >> 48);
	put8(o, status);
	put8(o, count);
	for (i = 0; i < count; i++)
	{
		rnd_keyid(keyid);
		put_bytes(o, keyid, KEYID_LEN);
	}
}

/* an offer (random KEYID) or, with OFFER_REQUEST, a request (zero KEYID) */
static void msg_offer(opt_t *o, uint8_t flags)
{
	uint8_t keyid[KEYID_LEN] = {};

	if (!(flags & OFFER_REQUEST))
	{
		rnd_keyid(keyid);
	}
	o->len = 0;
	put8(o, T_AUTH_KEY_OFFER);
	put8(o, flags);
	put_bytes(o, keyid, KEYID_LEN);
}

/*
 * The well-formed messages of the registry, case i < SPOOF_CASES: fills
 * msg, whether it gets an AUTH option and a name. small keeps them short
 * (for cutting them at every length).
 */
#define SPOOF_CASES 20

static void spoof_case(int i, bool small, opt_t *msg, bool *auth,
					   const char **name)
{
	static const uint8_t status[] = { 0x00, 0x01, 0x02, 0x03, 0x04, 0x80 };
	static const char *status_names[] = {
		"CONFIRM_NEGOTIATE success", "CONFIRM_NEGOTIATE invalid KEYID",
		"CONFIRM_NEGOTIATE not Idle", "CONFIRM_NEGOTIATE HMAC failed",
		"CONFIRM_NEGOTIATE timestamp", "CONFIRM_NEGOTIATE unsupported alg",
	};
	uint32_t count;

	*auth = true;
	switch (i)
	{
		case 0:
		case 1:
			msg_sync(msg, i ? T_ACK_AVAILABLE : T_REQ_SYNC,
					 small ? rnd_range(1, 8) : rnd_range(1, MAX_SYNC_BITMAP));
			*name = i ? "ACK_AVAILABLE" : "REQ_SYNC";
			break;
		case 2:
			msg_negotiate(msg, 0, 0);
			*name = "REQ_NEGOTIATE KEYID";
			break;
		case 3:
			msg_negotiate(msg, 1, small ? 4 : rnd_range(1, 32));
			*name = "REQ_NEGOTIATE all TLVs";
			break;
		case 4 ... 9:
			msg_confirm(msg, status[i - 4]);
			*name = status_names[i - 4];
			break;
		case 10:
		case 11:
			count = small ? rnd_range(1, 32) : rnd_range(1, MAX_RANGE_DATA * 4);
			msg_range(msg, i == 10 ? T_REQ_SYNC_RANGE : T_ACK_AVAILABLE_RANGE,
					  0, count);
			*name = i == 10 ? "REQ_SYNC_RANGE" : "ACK_AVAILABLE_RANGE";
			break;
		case 12:
			msg_announce(msg, small ? rnd_range(1, 2)
									: rnd_range(1, MAX_ANNOUNCE));
			*name = "KEY_ANNOUNCE";
			break;
		case 13:
		case 14:
			msg_announce_ack(msg, i - 13, small ? rnd_range(0, 2)
											: rnd_range(0, MAX_ANNOUNCE));
			*name = i == 13 ? "ANNOUNCE_ACK all" : "ANNOUNCE_ACK some";
			break;
		case 15:
			msg_offer(msg, 0);
			*auth = false;
			*name = "AUTH_KEY_OFFER";
			break;
		case 16:
			msg_offer(msg, OFFER_RANGE);
			*auth = false;
			*name = "AUTH_KEY_OFFER range";
			break;
		case 17:
			msg_offer(msg, 0);
			*name = "AUTH_KEY_OFFER with AUTH";
			break;
		case 18:
			msg_offer(msg, OFFER_REQUEST);
			*auth = false;
			*name = "AUTH_KEY_OFFER request";
			break;
		case 19:
		default:
			msg_range(msg, T_REQ_SYNC_RANGE, RANGE_RESET,
					  small ? rnd_range(1, 32) : rnd_range(1, 400));
			*name = "REQ_SYNC_RANGE reset";
			break;
	}
}

/* ---------------------------------------------------------------------- */
/* a list of packets to send, one cycle of a mode                          */

typedef struct {
	uint8_t next_header;	/* Next Header of the IPv6 header */
	size_t len;				/* bytes after the IPv6 header */
	char desc[80];
	uint8_t data[];
} pkt_t;

typedef struct {
	pkt_t **p;
	size_t n, cap, next;
} list_t;

static void list_clear(list_t *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
	{
		free(l->p[i]);
	}
	l->n = l->next = 0;
}

/* add a packet: the bytes after the IPv6 header (whose Payload Length
 * always matches them: Linux sets it for IPPROTO_RAW, and receivers trim
 * or drop packets whose Payload Length disagrees with the frame) */
static void add_pkt(list_t *l, uint8_t next_header, const uint8_t *data,
					size_t len, const char *fmt, ...)
{
	va_list args;
	pkt_t *p;

	p = malloc(sizeof(*p) + len);
	if (!p)
	{
		die("out of memory");
	}
	p->next_header = next_header;
	p->len = len;
	memcpy(p->data, data, len);
	va_start(args, fmt);
	vsnprintf(p->desc, sizeof(p->desc), fmt, args);
	va_end(args);
	if (l->n == l->cap)
	{
		l->cap = l->cap ? 2 * l->cap : 64;
		l->p = realloc(l->p, l->cap * sizeof(*l->p));
		if (!l->p)
		{
			die("out of memory");
		}
	}
	l->p[l->n++] = p;
}

#define add_doh(l, h, ...) add_pkt(l, NH_DSTOPTS, (h)->b, (h)->len, __VA_ARGS__)

/* ---------------------------------------------------------------------- */
/* the modes: one cycle of packets each                                    */

static void cycle_spoof(list_t *l)
{
	const char *name;
	opt_t msg;
	doh_t h;
	bool auth;
	int i;

	for (i = 0; i < SPOOF_CASES; i++)
	{
		spoof_case(i, false, &msg, &auth, &name);
		build_doh(&h, &msg, auth);
		add_doh(l, &h, "%s", name);
	}
}

static void cycle_truncated(list_t *l)
{
	const char *name;
	opt_t msg, a, cut;
	doh_t h, t;
	bool auth;
	size_t n, k;
	int i;

	for (i = 0; i < SPOOF_CASES; i++)
	{
		spoof_case(i, true, &msg, &auth, &name);
		build_doh(&h, &msg, auth);
		n = h.len;

		/* header cut at every length, Hdr Ext Len still says n */
		for (k = 1; k < n; k++)
		{
			add_pkt(l, NH_DSTOPTS, h.b, k, "%s cut at %zu of %zu", name, k,
					n);
		}
		/* cut at multiples of 8 with a matching Hdr Ext Len: options run
		 * beyond the header */
		for (k = 8; k < n; k += 8)
		{
			t = h;
			t.len = k;
			t.b[1] = k / 8 - 1;
			add_doh(l, &t, "%s header of %zu, options beyond", name, k);
		}
		/* consistent header, the message's Option Data cut at every
		 * length */
		for (k = 1; k < msg.len; k++)
		{
			cut = msg;
			cut.len = k;
			doh_init(&t, NH_NONE);
			doh_opt(&t, OPT_QK, cut.d, cut.len);
			if (auth)
			{
				make_auth(&a);
				doh_opt(&t, OPT_QK, a.d, a.len);
			}
			doh_finish(&t);
			add_doh(l, &t, "%s Option Data cut at %zu of %zu", name, k,
					msg.len);
		}
		/* consistent header, the AUTH option cut at every length */
		if (auth)
		{
			for (k = 0; k < 26; k++)
			{
				make_auth(&a);
				doh_init(&t, NH_NONE);
				doh_opt(&t, OPT_QK, msg.d, msg.len);
				doh_opt(&t, OPT_QK, a.d, k);
				doh_finish(&t);
				add_doh(l, &t, "%s AUTH cut at %zu of 26", name, k);
			}
		}
		/* an option length beyond the header: the message's Option
		 * Length says more than the header holds */
		t = h;
		t.b[3] = 255;
		add_doh(l, &t, "%s Opt Data Len 255 beyond the header", name);
	}
}

/* bit writer for raw DEFLATE (RFC 1951), LSB first */
typedef struct {
	uint8_t *p;
	size_t cap, bits;
} bitw_t;

static void bw_bits(bitw_t *w, uint32_t v, int n)
{
	while (n--)
	{
		if (w->bits / 8 < w->cap)
		{
			if (v & 1)
			{
				w->p[w->bits / 8] |= 1 << (w->bits % 8);
			}
			w->bits++;
		}
		v >>= 1;
	}
}

/* Huffman codes go MSB first */
static void bw_code(bitw_t *w, uint32_t code, int n)
{
	while (n--)
	{
		bw_bits(w, (code >> n) & 1, 1);
	}
}

/*
 * A raw DEFLATE stream of at most cap bytes (fixed Huffman codes: a zero
 * literal and length 258 / distance 1 matches) that inflates to many zero
 * bytes. Returns its length, sets *out to the inflated length.
 */
static size_t deflate_bomb(uint8_t *p, size_t cap, size_t *out)
{
	bitw_t w = { .p = p, .cap = cap };
	size_t matches;

	memset(p, 0, cap);
	/* 3 header bits, a literal (8), the end of block (7), 13 per match */
	matches = (cap * 8 - 3 - 8 - 7) / 13;
	bw_bits(&w, 1, 1);			/* BFINAL */
	bw_bits(&w, 1, 2);			/* BTYPE 01, fixed codes */
	bw_code(&w, 0x30, 8);		/* literal 0 */
	for (size_t i = 0; i < matches; i++)
	{
		bw_code(&w, 0xc5, 8);	/* length code 285: 258 */
		bw_code(&w, 0x00, 5);	/* distance code 0: 1 */
	}
	bw_code(&w, 0x00, 7);		/* end of block (256) */
	*out = 1 + 258 * matches;
	return (w.bits + 7) / 8;
}

/* a range message with the given fields and bitmap data */
static void range_raw(opt_t *o, uint8_t type, uint8_t flags, uint32_t start,
					  uint32_t count, uint32_t pool, const uint8_t *data,
					  size_t len)
{
	o->len = 0;
	put8(o, type);
	put8(o, flags);
	put32(o, start);
	put32(o, count);
	put32(o, pool);
	put_bytes(o, data, len);
}

static void cycle_oversized(list_t *l)
{
	static const uint8_t types[] = {
		T_REQ_SYNC, T_ACK_AVAILABLE, T_REQ_NEGOTIATE, T_CONFIRM_NEGOTIATE,
		T_REQ_SYNC_RANGE, T_ACK_AVAILABLE_RANGE, T_KEY_ANNOUNCE,
		T_ANNOUNCE_ACK, T_AUTH, T_AUTH_KEY_OFFER,
	};
	uint8_t bitmap[MAX_OPT_DATA], bomb[MAX_RANGE_DATA], keyid[KEYID_LEN];
	size_t inflated, bomb_len, i, tail, seed, len;
	uint8_t type;
	const char *name;
	opt_t msg, a;
	doh_t h, t;
	bool auth;

	/* 2048 bytes: a full REQ_SYNC, AUTH, then PadN filler */
	msg_sync(&msg, T_REQ_SYNC, MAX_SYNC_BITMAP);
	doh_init(&h, NH_NONE);
	doh_opt(&h, OPT_QK, msg.d, msg.len);
	make_auth(&a);
	doh_opt(&h, OPT_QK, a.d, a.len);
	doh_fill(&h, MAX_DOH, OPT_PADN);
	doh_finish(&h);
	add_doh(l, &h, "2048-byte header: REQ_SYNC, AUTH, PadN filler");

	/* 2048 bytes of QK options with 255 bytes of data, a message of
	 * every type */
	doh_init(&h, NH_NONE);
	for (i = 0; MAX_DOH - h.len >= 3; i++)
	{
		len = MAX_DOH - h.len - 2;
		if (len > MAX_OPT_DATA)
		{
			len = MAX_OPT_DATA;
		}
		msg.len = 0;
		put8(&msg, types[i % sizeof(types)]);
		put_rnd(&msg, len - 1);
		doh_opt(&h, OPT_QK, msg.d, msg.len);
	}
	doh_finish(&h);
	add_doh(l, &h, "2048-byte header: %zu QK options", i);

	/* 2048 bytes: skippable unknown options (action 00), then a valid
	 * message with AUTH at the very end */
	spoof_case(2, false, &msg, &auth, &name);
	t.len = 0;
	doh_opt(&t, OPT_QK, msg.d, msg.len);
	make_auth(&a);
	doh_opt(&t, OPT_QK, a.d, a.len);
	tail = t.len;
	doh_init(&h, NH_NONE);
	doh_fill(&h, MAX_DOH - tail, rnd_range(0x02, 0x3f));
	doh_raw(&h, t.b, tail);
	doh_finish(&h);
	add_doh(l, &h, "2048-byte header: unknown options, then %s", name);

	/* 2048 bytes: a message followed by AUTH options */
	spoof_case(4, false, &msg, &auth, &name);
	doh_init(&h, NH_NONE);
	doh_opt(&h, OPT_QK, msg.d, msg.len);
	while (h.len + 28 <= MAX_DOH)
	{
		make_auth(&a);
		doh_opt(&h, OPT_QK, a.d, a.len);
	}
	doh_fill(&h, MAX_DOH, OPT_PADN);
	doh_finish(&h);
	add_doh(l, &h, "2048-byte header: %s, many AUTH options", name);

	/* 2048 bytes: the maximum Hdr Ext Len filled with random options */
	do
	{
		type = rnd_range(0x02, 0xff);
	}
	while (type == OPT_QK);
	doh_init(&h, NH_NONE);
	doh_fill(&h, MAX_DOH, type);
	doh_finish(&h);
	add_doh(l, &h, "2048-byte header: options of type 0x%02x", type);

	/* every type with 255 bytes of Option Data (its message, then
	 * random), with AUTH */
	for (i = 0; i < sizeof(types); i++)
	{
		msg.len = 0;
		put8(&msg, types[i]);
		put_rnd(&msg, MAX_OPT_DATA - 1);
		if (types[i] == T_REQ_NEGOTIATE)
		{	/* reserved zero, plausible header, then garbage TLVs */
			msg.d[1] = 0;
		}
		build_doh(&h, &msg, true);
		add_doh(l, &h, "type 0x%02x with 255 bytes of Option Data",
				types[i]);
	}
	/* an AUTH option with 255 bytes after a valid message */
	spoof_case(0, false, &msg, &auth, &name);
	doh_init(&h, NH_NONE);
	doh_opt(&h, OPT_QK, msg.d, msg.len);
	make_auth(&a);
	put_rnd(&a, MAX_OPT_DATA - a.len);
	doh_opt(&h, OPT_QK, a.d, a.len);
	doh_finish(&h);
	add_doh(l, &h, "AUTH with 255 bytes of Option Data");

	/* sync bitmaps: the largest, Key Offset 255 (beyond any pool) */
	msg_sync(&msg, T_REQ_SYNC, MAX_SYNC_BITMAP);
	msg.d[1] = 255;
	build_doh(&h, &msg, true);
	add_doh(l, &h, "REQ_SYNC Key Offset 255, 253-byte bitmap");
	msg_sync(&msg, T_ACK_AVAILABLE, MAX_SYNC_BITMAP);
	msg.d[1] = 255;
	build_doh(&h, &msg, true);
	add_doh(l, &h, "ACK_AVAILABLE Key Offset 255, 253-byte bitmap");

	/* range bitmaps too long for their type or their count */
	rnd_bytes(bitmap, sizeof(bitmap));
	range_raw(&msg, T_REQ_SYNC_RANGE, 0, 1, 964, 1000000, bitmap, 241);
	build_doh(&h, &msg, true);
	add_doh(l, &h, "REQ_SYNC_RANGE plain bitmap of 241 bytes");
	range_raw(&msg, T_ACK_AVAILABLE_RANGE, 0, 1, 4, 1000000, bitmap,
			  MAX_RANGE_DATA);
	build_doh(&h, &msg, true);
	add_doh(l, &h, "ACK_AVAILABLE_RANGE 4 keys, 240-byte bitmap");

	/* range messages claiming huge pools and counts */
	range_raw(&msg, T_REQ_SYNC_RANGE, 0, 1, 0xffffffff, 0xffffffff, bitmap,
			  MAX_RANGE_DATA);
	build_doh(&h, &msg, true);
	add_doh(l, &h, "REQ_SYNC_RANGE count 2^32-1, plain");
	memset(bitmap, 0, 1);
	range_raw(&msg, T_REQ_SYNC_RANGE, 0, 0xffffffff, 1, 0xffffffff, bitmap,
			  1);
	build_doh(&h, &msg, true);
	add_doh(l, &h, "REQ_SYNC_RANGE start 2^32-1 of 2^32-1");
	rnd_bytes(bitmap, sizeof(bitmap));
	range_raw(&msg, T_ACK_AVAILABLE_RANGE, 0, 0xffffff00, 0x200, 0xffffffff,
			  bitmap, 0x80);
	build_doh(&h, &msg, true);
	add_doh(l, &h, "ACK_AVAILABLE_RANGE start + count beyond 2^32");
	memset(bitmap, 0, sizeof(bitmap));
	range_raw(&msg, T_ACK_AVAILABLE_RANGE, 0, 1, MAX_RANGE_DATA * 4,
			  0xffffffff, bitmap, MAX_RANGE_DATA);
	build_doh(&h, &msg, true);
	add_doh(l, &h, "ACK_AVAILABLE_RANGE pool size 2^32-1");
	bomb_len = deflate_bomb(bomb, sizeof(bomb), &inflated);
	range_raw(&msg, T_REQ_SYNC_RANGE, RANGE_DEFLATE, 1, 0xffffffff,
			  0xffffffff, bomb, bomb_len);
	build_doh(&h, &msg, true);
	add_doh(l, &h, "REQ_SYNC_RANGE DEFLATE, count 2^32-1");
	range_raw(&msg, T_REQ_SYNC_RANGE, RANGE_DEFLATE, 1, inflated * 4,
			  0xffffffff, bomb, bomb_len);
	build_doh(&h, &msg, true);
	add_doh(l, &h, "REQ_SYNC_RANGE DEFLATE to %zu bytes, exact count",
			inflated);
	range_raw(&msg, T_ACK_AVAILABLE_RANGE, RANGE_DEFLATE, 1, 4, 1000000,
			  bomb, bomb_len);
	build_doh(&h, &msg, true);
	add_doh(l, &h, "ACK_AVAILABLE_RANGE DEFLATE to %zu bytes, count 4",
			inflated);

	/* announces claiming more KEYIDs than allowed or carried */
	msg_announce(&msg, MAX_ANNOUNCE);
	msg.d[3] = 255;
	build_doh(&h, &msg, true);
	add_doh(l, &h, "KEY_ANNOUNCE count 255, 15 KEYIDs");
	msg_announce(&msg, MAX_ANNOUNCE);
	msg.d[3] = MAX_ANNOUNCE + 1;
	rnd_keyid(keyid);
	put_bytes(&msg, keyid, 11);
	build_doh(&h, &msg, true);
	add_doh(l, &h, "KEY_ANNOUNCE count 16, 251 bytes");
	msg_announce_ack(&msg, 1, MAX_ANNOUNCE);
	msg.d[4] = 255;
	build_doh(&h, &msg, true);
	add_doh(l, &h, "ANNOUNCE_ACK count 255, 15 KEYIDs");

	/* REQ_NEGOTIATE with TLVs filling 255 bytes */
	msg_negotiate(&msg, 0, 0);
	while (msg.len + 18 <= MAX_OPT_DATA)
	{
		rnd_keyid(keyid);
		put8(&msg, TLV_KEYID);
		put8(&msg, KEYID_LEN);
		put_bytes(&msg, keyid, KEYID_LEN);
	}
	build_doh(&h, &msg, true);
	add_doh(l, &h, "REQ_NEGOTIATE with %zu bytes of KEYID TLVs",
			msg.len - 12);
	msg_negotiate(&msg, 0, 0);
	seed = MAX_OPT_DATA - msg.len - 2;
	put8(&msg, TLV_SEED);
	put8(&msg, seed);
	put_rnd(&msg, seed);
	build_doh(&h, &msg, true);
	add_doh(l, &h, "REQ_NEGOTIATE seed TLV of %zu bytes", seed);
	msg_negotiate(&msg, 0, 0);
	put8(&msg, TLV_SEED);
	put8(&msg, 255);
	put_rnd(&msg, 8);
	msg.d[2] = msg.d[3] = msg.d[4] = msg.d[5] = 0xff;
	build_doh(&h, &msg, true);
	add_doh(l, &h, "REQ_NEGOTIATE Index 2^32-1, TLV length beyond the data");
}

static void cycle_garbage(list_t *l)
{
	uint8_t data[MAX_DOH];
	const char *name;
	opt_t msg, a;
	doh_t h;
	bool auth;
	size_t len;
	uint8_t type;
	int i, action;

	/* random bytes after Next Header 60, random length */
	for (i = 0; i < 4; i++)
	{
		len = rnd_range(1, 600);
		rnd_bytes(data, len);
		add_pkt(l, NH_DSTOPTS, data, len, "%zu random bytes", len);
	}
	/* random options area, Hdr Ext Len consistent */
	for (i = 0; i < 4; i++)
	{
		len = 8 * rnd_range(1, 32);
		rnd_bytes(data, len);
		data[0] = NH_NONE;
		data[1] = len / 8 - 1;
		add_pkt(l, NH_DSTOPTS, data, len, "%zu-byte header of random options",
				len);
	}
	/* unknown option types with every action, alone and before a valid
	 * message */
	for (action = 0; action < 4; action++)
	{
		for (i = 0; i < 4; i++)
		{
			do
			{
				type = (action << 6) | rnd_range(0, 0x3f);
			}
			while (type == OPT_PAD1 || type == OPT_PADN || type == OPT_QK);
			len = rnd_range(0, 64);
			rnd_bytes(data, len);
			doh_init(&h, NH_NONE);
			doh_opt(&h, type, data, len);
			if (i % 2)
			{
				spoof_case(rnd_range(0, SPOOF_CASES - 1), false, &msg, &auth,
						   &name);
				doh_opt(&h, OPT_QK, msg.d, msg.len);
				if (auth)
				{
					make_auth(&a);
					doh_opt(&h, OPT_QK, a.d, a.len);
				}
			}
			doh_finish(&h);
			add_doh(l, &h, "option 0x%02x (action %d%d)%s", type,
					action >> 1, action & 1, i % 2 ? ", then a message" : "");
		}
	}
	/* option 0x50 with random data, alone and with a random AUTH */
	for (i = 0; i < 6; i++)
	{
		len = rnd_range(0, MAX_OPT_DATA);
		rnd_bytes(data, len);
		doh_init(&h, NH_NONE);
		doh_opt(&h, OPT_QK, data, len);
		if (i >= 4)
		{
			make_auth(&a);
			doh_opt(&h, OPT_QK, a.d, a.len);
		}
		doh_finish(&h);
		add_doh(l, &h, "option 0x50 with %zu random bytes%s", len,
				i >= 4 ? ", AUTH" : "");
	}
	/* option 0x50 with a reserved message type */
	for (i = 0; i < 4; i++)
	{
		len = rnd_range(1, MAX_OPT_DATA);
		rnd_bytes(data, len);
		data[0] = i % 2 ? rnd_range(0x04, 0x7f) : rnd_range(0x86, 0xff);
		doh_init(&h, NH_NONE);
		doh_opt(&h, OPT_QK, data, len);
		make_auth(&a);
		doh_opt(&h, OPT_QK, a.d, a.len);
		doh_finish(&h);
		add_doh(l, &h, "reserved message type 0x%02x", data[0]);
	}
	/* AUTH alone, AUTH before the message */
	make_auth(&a);
	doh_init(&h, NH_NONE);
	doh_opt(&h, OPT_QK, a.d, a.len);
	doh_finish(&h);
	add_doh(l, &h, "AUTH without message");
	spoof_case(0, false, &msg, &auth, &name);
	doh_init(&h, NH_NONE);
	doh_opt(&h, OPT_QK, a.d, a.len);
	doh_opt(&h, OPT_QK, msg.d, msg.len);
	doh_finish(&h);
	add_doh(l, &h, "AUTH before %s", name);
	/* PadN with content, before a valid message */
	spoof_case(2, false, &msg, &auth, &name);
	len = rnd_range(1, 16);
	rnd_bytes(data, len);
	data[0] |= 1;
	doh_init(&h, NH_NONE);
	doh_opt(&h, OPT_PADN, data, len);
	doh_opt(&h, OPT_QK, msg.d, msg.len);
	make_auth(&a);
	doh_opt(&h, OPT_QK, a.d, a.len);
	doh_finish(&h);
	add_doh(l, &h, "PadN with content, then %s", name);
	/* a valid message riding on random "upper layer" bytes */
	spoof_case(rnd_range(0, SPOOF_CASES - 1), false, &msg, &auth, &name);
	build_doh(&h, &msg, auth);
	h.b[0] = rnd_range(0, 0xff);
	len = rnd_range(0, 200);
	rnd_bytes(data, len);
	doh_raw(&h, data, len);
	add_doh(l, &h, "%s, Next Header %u, %zu random bytes", name, h.b[0], len);
}

static void cycle_flood(list_t *l)
{
	opt_t msg;
	doh_t h;

	msg_offer(&msg, 0);
	build_doh(&h, &msg, false);
	add_doh(l, &h, "AUTH_KEY_OFFER");
}

static void (*cycles[M_COUNT])(list_t *l) = {
	[M_SPOOF] = cycle_spoof,
	[M_TRUNCATED] = cycle_truncated,
	[M_OVERSIZED] = cycle_oversized,
	[M_GARBAGE] = cycle_garbage,
	[M_FLOOD] = cycle_flood,
};

/* ---------------------------------------------------------------------- */
/* sending                                                                 */

/* send one complete IPv6 packet to dst, 0 or an errno */
static int send_raw(const uint8_t *pkt, size_t len, const struct in6_addr *dst)
{
	struct sockaddr_in6 sin = {
		.sin6_family = AF_INET6,
		.sin6_addr = *dst,
		.sin6_scope_id = opt.ifindex,	/* used for link-local only */
	};

	if (sendto(raw_fd, pkt, len, 0, (struct sockaddr*)&sin,
			   sizeof(sin)) != (ssize_t)len)
	{
		return errno ?: EIO;
	}
	return 0;
}

static void ip6_header(uint8_t *buf, const struct in6_addr *src,
					   const struct in6_addr *dst, uint8_t next_header,
					   uint16_t plen)
{
	struct ip6_hdr *ip = (struct ip6_hdr*)buf;

	memset(ip, 0, sizeof(*ip));
	ip->ip6_flow = htonl(6 << 28);
	ip->ip6_plen = htons(plen);
	ip->ip6_nxt = next_header;
	ip->ip6_hlim = HOP_LIMIT;
	ip->ip6_src = *src;
	ip->ip6_dst = *dst;
}

/*
 * Send a packet from --spoof to --target, in fragments (RFC 8200 4.5, the
 * whole payload fragmentable) if it is larger than the MTU. Returns 0 or an
 * errno.
 */
static int send_pkt(enum mode mode, pkt_t *p)
{
	uint8_t buf[IP6_HDR_LEN + FRAG_HDR_LEN + MAX_DOH + 1024];
	size_t chunk, off, n;
	uint32_t id;
	int err = 0;

	if (IP6_HDR_LEN + p->len <= (size_t)opt.mtu)
	{
		ip6_header(buf, &opt.spoof, &opt.target, p->next_header, p->len);
		memcpy(buf + IP6_HDR_LEN, p->data, p->len);
		return send_raw(buf, IP6_HDR_LEN + p->len, &opt.target);
	}
	chunk = (opt.mtu - IP6_HDR_LEN - FRAG_HDR_LEN) & ~7;
	id = rnd64();
	for (off = 0; off < p->len && !err; off += n)
	{
		n = p->len - off < chunk ? p->len - off : chunk;
		ip6_header(buf, &opt.spoof, &opt.target, NH_FRAGMENT,
				   FRAG_HDR_LEN + n);
		buf[IP6_HDR_LEN] = p->next_header;
		buf[IP6_HDR_LEN + 1] = 0;
		buf[IP6_HDR_LEN + 2] = off >> 8;
		buf[IP6_HDR_LEN + 3] = (off & 0xf8) | (off + n < p->len ? 1 : 0);
		memcpy(buf + IP6_HDR_LEN + 4, &(uint32_t){ htonl(id) }, 4);
		memcpy(buf + IP6_HDR_LEN + FRAG_HDR_LEN, p->data + off, n);
		err = send_raw(buf, IP6_HDR_LEN + FRAG_HDR_LEN + n, &opt.target);
		if (!err)
		{
			stats[mode].fragments++;
		}
	}
	return err;
}

/* ---------------------------------------------------------------------- */
/* replay                                                                  */

typedef struct {
	double due;
	size_t len;
	uint8_t *pkt;
	int copy;
} resend_t;

static resend_t queue[REPLAY_QUEUE];
static size_t queued;
static uint64_t seen[REPLAY_SEEN];
static size_t seen_next;

static uint64_t fnv1a(const uint8_t *p, size_t len)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	while (len--)
	{
		h = (h ^ *p++) * 0x100000001b3ULL;
	}
	return h;
}

/* whether a header's options include 0x50 */
static bool has_qk_option(const uint8_t *doh, size_t len)
{
	size_t i = 2;

	while (i < len)
	{
		if (doh[i] == OPT_PAD1)
		{
			i++;
			continue;
		}
		if (doh[i] == OPT_QK)
		{
			return true;
		}
		if (i + 1 >= len)
		{
			break;
		}
		i += 2 + doh[i + 1];
	}
	return false;
}

/* whether an IPv6 packet carries a DOH with option 0x50 between the
 * gateways (--target and --spoof, either direction) */
static bool is_doh_packet(const uint8_t *pkt, size_t len)
{
	const struct ip6_hdr *ip = (const struct ip6_hdr*)pkt;
	size_t off = IP6_HDR_LEN, end, hlen;
	uint8_t nh;

	if (len < IP6_HDR_LEN || (pkt[0] >> 4) != 6)
	{
		return false;
	}
	if (!((!memcmp(&ip->ip6_src, &opt.spoof, 16) &&
		   !memcmp(&ip->ip6_dst, &opt.target, 16)) ||
		  (!memcmp(&ip->ip6_src, &opt.target, 16) &&
		   !memcmp(&ip->ip6_dst, &opt.spoof, 16))))
	{
		return false;
	}
	end = IP6_HDR_LEN + ntohs(ip->ip6_plen);
	if (end > len)
	{
		end = len;
	}
	nh = ip->ip6_nxt;
	while (off + 2 <= end)
	{
		hlen = (pkt[off + 1] + 1) * 8;
		if (off + hlen > end)
		{
			return false;
		}
		switch (nh)
		{
			case NH_DSTOPTS:
				if (has_qk_option(pkt + off, hlen))
				{
					return true;
				}
				/* fall through */
			case NH_HOP:
			case NH_ROUTING:
				nh = pkt[off];
				off += hlen;
				continue;
			default:
				return false;
		}
	}
	return false;
}

static void enqueue(const uint8_t *pkt, size_t len, double due, int copy)
{
	if (queued == REPLAY_QUEUE)
	{
		return;
	}
	queue[queued] = (resend_t){
		.due = due,
		.len = len,
		.pkt = malloc(len),
		.copy = copy,
	};
	if (!queue[queued].pkt)
	{
		die("out of memory");
	}
	memcpy(queue[queued].pkt, pkt, len);
	queued++;
}

static void replay_send(const uint8_t *pkt, size_t len, const char *when)
{
	const struct ip6_hdr *ip = (const struct ip6_hdr*)pkt;
	char src[INET6_ADDRSTRLEN], dst[INET6_ADDRSTRLEN];
	int err;

	err = send_raw(pkt, len, &ip->ip6_dst);
	if (err)
	{
		stats[M_REPLAY].errors++;
	}
	else
	{
		stats[M_REPLAY].sent++;
	}
	inet_ntop(AF_INET6, &ip->ip6_src, src, sizeof(src));
	inet_ntop(AF_INET6, &ip->ip6_dst, dst, sizeof(dst));
	logf_("replay %s %s > %s len=%zu%s%s\n", when, src, dst, len,
		  err ? " error: " : "", err ? strerror(err) : "");
}

/* read what the packet socket has, resend DOH packets between the
 * gateways */
static void replay_capture(double t)
{
	uint8_t pkt[65536];
	struct sockaddr_ll from;
	socklen_t fromlen;
	char src[INET6_ADDRSTRLEN], dst[INET6_ADDRSTRLEN];
	const struct ip6_hdr *ip;
	uint64_t hash;
	ssize_t len;
	size_t i, plen;
	int copy;

	while (true)
	{
		fromlen = sizeof(from);
		len = recvfrom(packet_fd, pkt, sizeof(pkt), MSG_DONTWAIT | MSG_TRUNC,
					   (struct sockaddr*)&from, &fromlen);
		if (len < 0)
		{
			return;
		}
		if (len > (ssize_t)sizeof(pkt) || from.sll_pkttype == PACKET_OUTGOING ||
			!is_doh_packet(pkt, len))
		{
			continue;
		}
		ip = (const struct ip6_hdr*)pkt;
		plen = IP6_HDR_LEN + ntohs(ip->ip6_plen);
		if (plen < (size_t)len)
		{	/* Ethernet padding */
			len = plen;
		}
		hash = fnv1a(pkt, len);
		for (i = 0; i < REPLAY_SEEN; i++)
		{
			if (seen[i] == hash)
			{
				break;
			}
		}
		if (i < REPLAY_SEEN)
		{
			continue;
		}
		seen[seen_next++ % REPLAY_SEEN] = hash;
		stats[M_REPLAY].captured++;
		inet_ntop(AF_INET6, &ip->ip6_src, src, sizeof(src));
		inet_ntop(AF_INET6, &ip->ip6_dst, dst, sizeof(dst));
		logf_("replay captured %s > %s len=%zd ", src, dst, len);
		log_hex(pkt + IP6_HDR_LEN, len - IP6_HDR_LEN);
		if (opt.log)
		{
			fprintf(opt.log, "\n");
		}
		for (copy = 0; copy < REPLAY_NOW; copy++)
		{
			replay_send(pkt, len, "now");
		}
		enqueue(pkt, len, t + REPLAY_DELAY_MIN + (REPLAY_DELAY_MAX -
				REPLAY_DELAY_MIN) * (rnd64() >> 11) / (double)(1ULL << 53), 0);
		if (opt.late > 0)
		{
			enqueue(pkt, len, t + opt.late, 1);
		}
	}
}

/* send the resends that are due, returns the next due time (or +inf) */
static double replay_due(double t)
{
	double next = 1e300;
	size_t i = 0;

	while (i < queued)
	{
		if (queue[i].due <= t)
		{
			replay_send(queue[i].pkt, queue[i].len,
						queue[i].copy ? "late" : "delayed");
			free(queue[i].pkt);
			queue[i] = queue[--queued];
			continue;
		}
		if (queue[i].due < next)
		{
			next = queue[i].due;
		}
		i++;
	}
	return next;
}

/* ---------------------------------------------------------------------- */
/* main                                                                    */

static void usage(FILE *out)
{
	fprintf(out,
"Usage: qkd-doh-attack --iface IF --target ADDR --spoof ADDR\n"
"                      [--duration SECONDS] [--rate PPS] [--modes LIST]\n"
"                      [--log FILE] [--late SECONDS] [--seed N]\n"
"Sends hostile IPv6 Destination Options Header (option 0x50) messages to\n"
"ADDR with the IPv6 source --spoof (the other gateway). Needs CAP_NET_RAW.\n"
"\n"
"  -i, --iface IF        interface to send on (and to sniff for replay)\n"
"  -t, --target ADDR     IPv6 address (or host name) of the gateway under\n"
"                        attack\n"
"  -s, --spoof ADDR      IPv6 source address (or host name) to send from,\n"
"                        its peer\n"
"  -d, --duration SECS   run this long, then print the summary (default 10)\n"
"  -r, --rate PPS        packets per second of each sending mode (default\n"
"                        100, 0 for as fast as possible)\n"
"  -m, --modes LIST      comma list of spoof, replay, truncated, oversized,\n"
"                        garbage, flood, or all (default all)\n"
"  -l, --log FILE        append a line per packet sent/captured to FILE\n"
"      --late SECS       replay captured packets once more after SECS,\n"
"                        beyond the receiver's window (default 35, 0: no)\n"
"      --seed N          seed of the random numbers (default: random)\n"
"  -h, --help            show this help\n");
}

static double parse_num(const char *name, const char *s)
{
	char *end;
	double v;

	v = strtod(s, &end);
	if (*s == '\0' || *end != '\0' || v < 0 || v != v)
	{
		die("invalid %s '%s'", name, s);
	}
	return v;
}

static unsigned parse_modes(const char *s)
{
	char *copy = strdup(s), *tok, *save = NULL;
	unsigned modes = 0;
	int i;

	for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save))
	{
		if (!strcmp(tok, "all"))
		{
			modes = (1 << M_COUNT) - 1;
			continue;
		}
		for (i = 0; i < M_COUNT; i++)
		{
			if (!strcmp(tok, mode_names[i]))
			{
				modes |= 1 << i;
				break;
			}
		}
		if (i == M_COUNT)
		{
			die("unknown mode '%s'", tok);
		}
	}
	free(copy);
	if (!modes)
	{
		die("no mode in '%s'", s);
	}
	return modes;
}

/* an IPv6 address or a host name with one (e.g. ip6-sun from /etc/hosts) */
static void parse_addr(const char *s, struct in6_addr *addr)
{
	struct addrinfo hints = { .ai_family = AF_INET6 }, *res;

	if (inet_pton(AF_INET6, s, addr) == 1)
	{
		return;
	}
	if (getaddrinfo(s, NULL, &hints, &res) != 0)
	{
		die("no IPv6 address for '%s'", s);
	}
	*addr = ((struct sockaddr_in6*)res->ai_addr)->sin6_addr;
	freeaddrinfo(res);
}

static void parse_args(int argc, char *argv[])
{
	static const struct option options[] = {
		{ "iface", required_argument, NULL, 'i' },
		{ "target", required_argument, NULL, 't' },
		{ "spoof", required_argument, NULL, 's' },
		{ "duration", required_argument, NULL, 'd' },
		{ "rate", required_argument, NULL, 'r' },
		{ "modes", required_argument, NULL, 'm' },
		{ "log", required_argument, NULL, 'l' },
		{ "late", required_argument, NULL, 'L' },
		{ "seed", required_argument, NULL, 'S' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	bool target = false, spoof = false;
	int c;

	while ((c = getopt_long(argc, argv, "i:t:s:d:r:m:l:h", options,
							NULL)) != -1)
	{
		switch (c)
		{
			case 'i':
				opt.iface = optarg;
				break;
			case 't':
				parse_addr(optarg, &opt.target);
				target = true;
				break;
			case 's':
				parse_addr(optarg, &opt.spoof);
				spoof = true;
				break;
			case 'd':
				opt.duration = parse_num("duration", optarg);
				break;
			case 'r':
				opt.rate = parse_num("rate", optarg);
				break;
			case 'm':
				opt.modes = parse_modes(optarg);
				break;
			case 'l':
				opt.log = fopen(optarg, "a");
				if (!opt.log)
				{
					die("opening %s failed: %s", optarg, strerror(errno));
				}
				setvbuf(opt.log, NULL, _IOLBF, 0);
				break;
			case 'L':
				opt.late = parse_num("late", optarg);
				break;
			case 'S':
				opt.seed = strtoull(optarg, NULL, 0);
				if (!opt.seed)
				{
					die("invalid seed '%s'", optarg);
				}
				break;
			case 'h':
				usage(stdout);
				exit(0);
			default:
				usage(stderr);
				exit(2);
		}
	}
	if (optind < argc || !opt.iface || !target || !spoof)
	{
		usage(stderr);
		exit(2);
	}
}

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static void open_sockets(void)
{
	struct ifreq ifr = {};
	struct sockaddr_ll sll = {
		.sll_family = AF_PACKET,
		.sll_protocol = htons(ETH_P_IPV6),
	};
	struct packet_mreq mreq = {
		.mr_type = PACKET_MR_PROMISC,
	};

	opt.ifindex = if_nametoindex(opt.iface);
	if (!opt.ifindex)
	{
		die("no interface '%s'", opt.iface);
	}
	/* IPPROTO_RAW: IPV6_HDRINCL implied, we write the IPv6 header */
	raw_fd = socket(AF_INET6, SOCK_RAW, IPPROTO_RAW);
	if (raw_fd < 0)
	{
		die("raw IPv6 socket: %s (CAP_NET_RAW needed)", strerror(errno));
	}
	if (setsockopt(raw_fd, SOL_SOCKET, SO_BINDTODEVICE, opt.iface,
				   strlen(opt.iface)) < 0)
	{
		die("binding to %s: %s", opt.iface, strerror(errno));
	}
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", opt.iface);
	if (ioctl(raw_fd, SIOCGIFMTU, &ifr) < 0)
	{
		die("MTU of %s: %s", opt.iface, strerror(errno));
	}
	opt.mtu = ifr.ifr_mtu;
	if (opt.mtu < 1280)
	{
		opt.mtu = 1280;
	}
	if (!(opt.modes & (1 << M_REPLAY)))
	{
		return;
	}
	packet_fd = socket(AF_PACKET, SOCK_DGRAM, htons(ETH_P_IPV6));
	if (packet_fd < 0)
	{
		die("packet socket: %s (CAP_NET_RAW needed)", strerror(errno));
	}
	sll.sll_ifindex = opt.ifindex;
	if (bind(packet_fd, (struct sockaddr*)&sll, sizeof(sll)) < 0)
	{
		die("binding the packet socket to %s: %s", opt.iface,
			strerror(errno));
	}
	/* see traffic between others on a hub or a real NIC, best effort */
	mreq.mr_ifindex = opt.ifindex;
	setsockopt(packet_fd, SOL_PACKET, PACKET_ADD_MEMBERSHIP, &mreq,
			   sizeof(mreq));
}

int main(int argc, char *argv[])
{
	struct sigaction sa = { .sa_handler = on_signal };
	char target[INET6_ADDRSTRLEN], spoof[INET6_ADDRSTRLEN];
	list_t lists[M_COUNT] = {};
	double next[M_COUNT], end, t, wake, interval;
	struct pollfd pfd;
	struct timespec ts;
	pkt_t *p;
	int i, burst, err;

	parse_args(argc, argv);
	if (!opt.seed && getrandom(&opt.seed, sizeof(opt.seed), 0) !=
													sizeof(opt.seed))
	{
		opt.seed = time(NULL) ^ ((uint64_t)getpid() << 32);
	}
	rng = opt.seed ?: 1;
	open_sockets();
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	inet_ntop(AF_INET6, &opt.target, target, sizeof(target));
	inet_ntop(AF_INET6, &opt.spoof, spoof, sizeof(spoof));
	t_start = now();
	end = t_start + opt.duration;
	interval = opt.rate > 0 ? 1 / opt.rate : 0;
	logf_("start: target %s spoof %s iface %s mtu %d rate %g duration %g "
		  "seed %llu\n", target, spoof, opt.iface, opt.mtu, opt.rate,
		  opt.duration, (unsigned long long)opt.seed);
	for (i = 0; i < M_COUNT; i++)
	{
		next[i] = t_start;
	}

	while (!stop && (t = now()) < end)
	{
		wake = end;
		for (i = 0; i < M_COUNT; i++)
		{
			if (!(opt.modes & (1 << i)) || !cycles[i])
			{
				continue;
			}
			if (next[i] < t - 1)
			{	/* far behind, don't try to catch up */
				next[i] = t;
			}
			for (burst = 0; next[i] <= t && burst < MAX_BURST; burst++)
			{
				if (lists[i].next == lists[i].n)
				{
					list_clear(&lists[i]);
					cycles[i](&lists[i]);
					stats[i].cycles++;
				}
				p = lists[i].p[lists[i].next++];
				err = send_pkt(i, p);
				if (err)
				{
					stats[i].errors++;
				}
				else
				{
					stats[i].sent++;
				}
				if (opt.log)
				{
					logf_("%s %s len=%zu%s%s ", mode_names[i], p->desc,
						  p->len, err ? " error: " : "",
						  err ? strerror(err) : "");
					log_hex(p->data, p->len);
					fprintf(opt.log, "\n");
				}
				next[i] += interval;
			}
			if (next[i] < wake)
			{
				wake = next[i];
			}
		}
		if (packet_fd >= 0)
		{
			t = now();
			replay_capture(t);
			t = replay_due(t);
			if (t < wake)
			{
				wake = t;
			}
		}
		t = now();
		if (wake > t)
		{
			wake -= t;
			ts.tv_sec = wake;
			ts.tv_nsec = (wake - ts.tv_sec) * 1e9;
			pfd = (struct pollfd){ .fd = packet_fd, .events = POLLIN };
			ppoll(&pfd, packet_fd >= 0 ? 1 : 0, &ts, NULL);
		}
	}

	printf("qkd-doh-attack: %s -> %s on %s, %.1f s\n", spoof, target,
		   opt.iface, now() - t_start);
	for (i = 0; i < M_COUNT; i++)
	{
		if (!(opt.modes & (1 << i)))
		{
			continue;
		}
		if (i == M_REPLAY)
		{
			printf("%s: %llu captured, %llu packets sent, %llu failed\n",
				   mode_names[i], (unsigned long long)stats[i].captured,
				   (unsigned long long)stats[i].sent,
				   (unsigned long long)stats[i].errors);
		}
		else
		{
			printf("%s: %llu packets sent, %llu failed", mode_names[i],
				   (unsigned long long)stats[i].sent,
				   (unsigned long long)stats[i].errors);
			if (stats[i].fragments)
			{
				printf(", %llu fragments",
					   (unsigned long long)stats[i].fragments);
			}
			if (lists[i].n > 1)
			{
				printf(" (last cycle: %zu packets)", lists[i].n);
			}
			printf("\n");
		}
		logf_("summary %s: sent %llu failed %llu captured %llu\n",
			  mode_names[i], (unsigned long long)stats[i].sent,
			  (unsigned long long)stats[i].errors,
			  (unsigned long long)stats[i].captured);
	}
	if (opt.log)
	{
		fclose(opt.log);
	}
	return 0;
}
