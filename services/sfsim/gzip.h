#pragma once

// gzip (RFC 1952) of a response body, for clients that send `Accept-Encoding: gzip`.

#include <string>
#include <string_view>

namespace sfbridge::sfsim {

// True when an Accept-Encoding header value lists gzip or * (case-insensitive) with a q-value
// other than 0.
bool AcceptsGzip(std::string_view accept_encoding);
// `data` compressed as one gzip member. Thread-safe.
std::string GzipCompress(std::string_view data);
// The inverse, for tests; empty on malformed input.
std::string GzipDecompress(std::string_view data);

}  // namespace sfbridge::sfsim
