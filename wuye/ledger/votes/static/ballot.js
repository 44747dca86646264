// Ballot encryption in the voter's browser: exponential ElGamal on the SM2 curve with
// the same proofs and byte encodings as wuye/ledger/votes/{elgamal,zkp,ballot}.py, so the
// platform only ever receives a ciphertext; and the owner's voting credential, an SM2 key
// made and kept here, that signs the ballot. BigInt affine arithmetic; SM3 (GB/T 32905).
"use strict";
(function (root) {
  const P = 0xFFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF00000000FFFFFFFFFFFFFFFFn;
  const A = 0xFFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF00000000FFFFFFFFFFFFFFFCn;
  const N = 0xFFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFF7203DF6B21C6052B53BBF40939D54123n;
  const G = [0x32C4AE2C1F1981195F9904466A39C9948FE30BBFF2660BE1715A4589334C74C7n,
             0xBC3736A2F4F6779C59BDCEE36B692153D0A9877CC62A474002DF32E52139F0A0n];
  const mod = (a, m) => { const r = a % m; return r < 0n ? r + m : r; };
  function inv(a, m) {
    let [r0, r1] = [mod(a, m), m], [s0, s1] = [1n, 0n];
    while (r1 !== 0n) { const q = r0 / r1; [r0, r1] = [r1, r0 - q * r1]; [s0, s1] = [s1, s0 - q * s1]; }
    return mod(s0, m);
  }
  // Points are [x, y] or null for the point at infinity.
  function add(p, q) {
    if (p === null) return q;
    if (q === null) return p;
    let l;
    if (p[0] === q[0]) {
      if (mod(p[1] + q[1], P) === 0n) return null;
      l = mod((3n * p[0] * p[0] + A) * inv(2n * p[1], P), P);
    } else {
      l = mod((q[1] - p[1]) * inv(q[0] - p[0], P), P);
    }
    const x = mod(l * l - p[0] - q[0], P);
    return [x, mod(l * (p[0] - x) - p[1], P)];
  }
  const neg = (p) => (p === null ? null : [p[0], mod(-p[1], P)]);
  function mul(k, p) {
    k = mod(k, N);
    let r = null, d = p;
    while (k > 0n) { if (k & 1n) r = add(r, d); d = add(d, d); k >>= 1n; }
    return r;
  }
  const hex = (b) => Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
  const unhex = (h) => Uint8Array.from(h.match(/../g) || [], (x) => parseInt(x, 16));
  const int32 = (k) => unhex(k.toString(16).padStart(64, "0"));
  const enc = (p) => { const o = new Uint8Array(65); o[0] = 4; o.set(int32(p[0]), 1); o.set(int32(p[1]), 33); return o; };
  function dec(h) {
    const b = unhex(h);
    if (b.length !== 65 || b[0] !== 4) throw new Error("not an uncompressed SM2 point");
    const x = BigInt("0x" + hex(b.slice(1, 33))), y = BigInt("0x" + hex(b.slice(33)));
    if (mod(y * y - (x * x * x + A * x + 0x28E9FA9E9D9F5E344D5A9E4BCF6509A7F39789F515AB8F92DDBCBD414D940E93n), P) !== 0n)
      throw new Error("point is not on the SM2 curve");
    return [x, y];
  }
  function concat(parts) {
    const n = parts.reduce((s, p) => s + p.length, 0), o = new Uint8Array(n);
    let i = 0; for (const p of parts) { o.set(p, i); i += p.length; }
    return o;
  }
  // SM3, GB/T 32905-2016.
  function sm3(msg) {
    const rotl = (x, n) => ((x << n) | (x >>> (32 - n))) >>> 0;
    const P0 = (x) => (x ^ rotl(x, 9) ^ rotl(x, 17)) >>> 0;
    const P1 = (x) => (x ^ rotl(x, 15) ^ rotl(x, 23)) >>> 0;
    const len = msg.length, bitLen = len * 8;
    const k = (64 - ((len + 9) % 64)) % 64;
    const m = new Uint8Array(len + 9 + k);
    m.set(msg); m[len] = 0x80;
    const dv = new DataView(m.buffer);
    dv.setUint32(m.length - 8, Math.floor(bitLen / 2 ** 32)); dv.setUint32(m.length - 4, bitLen >>> 0);
    let V = [0x7380166f, 0x4914b2b9, 0x172442d7, 0xda8a0600, 0xa96f30bc, 0x163138aa, 0xe38dee4d, 0xb0fb0e4e];
    const W = new Array(68), W1 = new Array(64);
    for (let off = 0; off < m.length; off += 64) {
      for (let j = 0; j < 16; j++) W[j] = dv.getUint32(off + 4 * j);
      for (let j = 16; j < 68; j++)
        W[j] = (P1(W[j - 16] ^ W[j - 9] ^ rotl(W[j - 3], 15)) ^ rotl(W[j - 13], 7) ^ W[j - 6]) >>> 0;
      for (let j = 0; j < 64; j++) W1[j] = (W[j] ^ W[j + 4]) >>> 0;
      let [a, b, c, d, e, f, g, h] = V;
      for (let j = 0; j < 64; j++) {
        const T = j < 16 ? 0x79cc4519 : 0x7a879d8a;
        const SS1 = rotl((rotl(a, 12) + e + rotl(T, j % 32)) >>> 0, 7);
        const SS2 = (SS1 ^ rotl(a, 12)) >>> 0;
        const FF = j < 16 ? a ^ b ^ c : (a & b) | (a & c) | (b & c);
        const GG = j < 16 ? e ^ f ^ g : (e & f) | (~e & g);
        const TT1 = ((FF >>> 0) + d + SS2 + W1[j]) >>> 0;
        const TT2 = ((GG >>> 0) + h + SS1 + W[j]) >>> 0;
        d = c; c = rotl(b, 9); b = a; a = TT1; h = g; g = rotl(f, 19); f = e; e = P0(TT2);
      }
      V = [a, b, c, d, e, f, g, h].map((x, i) => (x ^ V[i]) >>> 0);
    }
    const out = new Uint8Array(32), ov = new DataView(out.buffer);
    V.forEach((x, i) => ov.setUint32(4 * i, x));
    return out;
  }
  const utf8 = (s) => new TextEncoder().encode(s);
  function challenge(tag, context, parts) {
    const items = [utf8("wuye-votes-zkp-v1")];
    for (const part of [utf8(tag), context, ...parts]) {
      const l = new Uint8Array(4); new DataView(l.buffer).setUint32(0, part.length);
      items.push(l, part);
    }
    const digest = sm3(concat(items));
    const wide = concat([sm3(concat([digest, Uint8Array.of(1)])), sm3(concat([digest, Uint8Array.of(2)]))]);
    return mod(BigInt("0x" + hex(wide)), N);
  }
  function randomScalar() {
    const b = new Uint8Array(48);
    (root.crypto || require("crypto").webcrypto).getRandomValues(b);
    return 1n + mod(BigInt("0x" + hex(b)), N - 1n);
  }
  const sh = (k) => k.toString(16).padStart(64, "0");

  function encrypt(H, m, r) {
    const alpha = mul(r, G);
    const beta = m ? add(mul(r, H), G) : mul(r, H);
    return { alpha, beta };
  }
  function zeroOne(H, ct, m, r, context) {
    const fake = 1 - m, cf = randomScalar(), sf = randomScalar();
    const shifted = fake === 1 ? add(ct.beta, neg(G)) : ct.beta;
    const af = add(mul(sf, G), neg(mul(cf, ct.alpha)));
    const bf = add(mul(sf, H), neg(mul(cf, shifted)));
    const w = randomScalar(), ar = mul(w, G), br = mul(w, H);
    const [a0, b0, a1, b1] = m === 0 ? [ar, br, af, bf] : [af, bf, ar, br];
    const c = challenge("zero-one", context, [ct.alpha, ct.beta, a0, b0, a1, b1].map(enc));
    const cr = mod(c - cf, N), sr = mod(w + cr * r, N);
    const [c0, c1, s0, s1] = m === 0 ? [cr, cf, sr, sf] : [cf, cr, sf, sr];
    return { a0, b0, a1, b1, c0, c1, s0, s1 };
  }
  // Encrypt a vote for option `choice` of `options`; returns {ballot (JSON form), tracker, secrets}.
  function encryptBallot(publicKeyHex, fingerprintHex, unitRefHex, choice, options) {
    const H = dec(publicKeyHex);
    const context = sm3(concat([utf8("wuye-ballot-context"), unhex(fingerprintHex), unhex(unitRefHex)]));
    const choices = [], rs = [];
    let total = null, R = 0n;
    for (let j = 0; j < options; j++) {
      const m = j === choice ? 1 : 0, r = randomScalar();
      const ct = encrypt(H, m, r);
      choices.push({ ct, proof: zeroOne(H, ct, m, r, context) });
      rs.push(r); R = mod(R + r, N);
      total = total === null ? ct : { alpha: add(total.alpha, ct.alpha), beta: add(total.beta, ct.beta) };
    }
    const y2 = add(total.beta, neg(G));
    const w = randomScalar(), a1 = mul(w, G), a2 = mul(w, H);
    const c = challenge("ballot-sum", context, [G, total.alpha, H, y2, a1, a2].map(enc));
    const sum = { a1, a2, c, s: mod(w + c * R, N) };
    const bytes = [Uint8Array.of(options)];
    for (const { ct, proof: p } of choices)
      bytes.push(enc(ct.alpha), enc(ct.beta), enc(p.a0), enc(p.b0), enc(p.a1), enc(p.b1),
                 int32(p.c0), int32(p.c1), int32(p.s0), int32(p.s1));
    bytes.push(enc(sum.a1), enc(sum.a2), int32(sum.c), int32(sum.s));
    const ballot = {
      choices: choices.map(({ ct, proof: p }) => ({
        alpha: hex(enc(ct.alpha)), beta: hex(enc(ct.beta)),
        proof: { a0: hex(enc(p.a0)), b0: hex(enc(p.b0)), a1: hex(enc(p.a1)), b1: hex(enc(p.b1)),
                 c0: sh(p.c0), c1: sh(p.c1), s0: sh(p.s0), s1: sh(p.s1) },
      })),
      sum_proof: { a1: hex(enc(sum.a1)), a2: hex(enc(sum.a2)), c: sh(sum.c), s: sh(sum.s) },
    };
    return { ballot, tracker: hex(sm3(concat(bytes))),
             secrets: { choice, randomness: rs.map(sh) } };
  }
  // Benaloh audit: re-encrypt with the revealed randomness; true if the ballot holds `secrets.choice`.
  function auditBallot(publicKeyHex, ballot, secrets) {
    const H = dec(publicKeyHex);
    return ballot.choices.every((c, j) => {
      const ct = encrypt(H, j === secrets.choice ? 1 : 0, BigInt("0x" + secrets.randomness[j]));
      return hex(enc(ct.alpha)) === c.alpha && hex(enc(ct.beta)) === c.beta;
    });
  }
  // -- Voting credentials (wuye/ledger/votes/credentials.py): an SM2 key made here, in
  // the owner's browser; only its public half ever leaves the page.
  const B = 0x28E9FA9E9D9F5E344D5A9E4BCF6509A7F39789F515AB8F92DDBCBD414D940E93n;
  const publicKeyOf = (privateKeyHex) => hex(enc(mul(BigInt("0x" + privateKeyHex), G)));
  function generateCredential() {
    let d = randomScalar();
    while (d >= N - 1n) d = randomScalar(); // GB/T 32918.1, 6.1: d in [1, n-2]
    return { privateKey: sh(d), publicKey: publicKeyOf(sh(d)) };
  }
  // Z_A = SM3(ENTL_A || ID_A || a || b || x_G || y_G || x_A || y_A), GB/T 32918.2, 5.5.
  function zValue(uid, pub) {
    const entl = new Uint8Array(2); new DataView(entl.buffer).setUint16(0, uid.length * 8);
    return sm3(concat([entl, uid, int32(A), int32(B), int32(G[0]), int32(G[1]), int32(pub[0]), int32(pub[1])]));
  }
  function derInteger(k) {
    let h = k.toString(16); if (h.length % 2) h = "0" + h;
    let b = unhex(h); if (b[0] & 0x80) b = concat([Uint8Array.of(0), b]);
    return concat([Uint8Array.of(2, b.length), b]);
  }
  // SM2 signature (GB/T 32918.2, 6.1) as DER SEQUENCE { r, s } (GM/T 0009, 7.3).
  function sm2Sign(d, uid, message) {
    const e = BigInt("0x" + hex(sm3(concat([zValue(uid, mul(d, G)), message]))));
    for (;;) {
      const k = randomScalar();
      const r = mod(e + mul(k, G)[0], N);
      if (r === 0n || r + k === N) continue;
      const s = mod(inv(1n + d, N) * (k - r * d), N);
      if (s === 0n) continue;
      const body = concat([derInteger(r), derInteger(s)]);
      return concat([Uint8Array.of(0x30, body.length), body]);
    }
  }
  // The ballot's signature: over SM3("wuye-ballot-signature-v1" || fingerprint || unit || tracker),
  // with the user ID "wuye-vote:<election>".
  function signBallot(privateKeyHex, election, fingerprintHex, unitRefHex, trackerHex) {
    const message = sm3(concat([utf8("wuye-ballot-signature-v1"), unhex(fingerprintHex),
      unhex(unitRefHex), unhex(trackerHex)]));
    return hex(sm2Sign(BigInt("0x" + privateKeyHex), utf8("wuye-vote:" + election), message));
  }
  const api = { encryptBallot, auditBallot, generateCredential, publicKeyOf, signBallot,
                sm3: (b) => hex(sm3(b)) };
  if (typeof module !== "undefined") module.exports = api; else root.WuyeBallot = api;
})(typeof window !== "undefined" ? window : globalThis);
