//! DNSSEC for the root DNSKEY RRset: keys, tags, DS, signing input, verification, zone text.
