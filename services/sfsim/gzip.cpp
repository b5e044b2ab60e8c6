#include "sfsim/gzip.h"

#include <zlib.h>

#include <cctype>
#include <string>

namespace sfbridge::sfsim {
namespace {

constexpr int kGzipWindowBits = 15 + 16;  // zlib: +16 writes a gzip header and trailer

}  // namespace

bool AcceptsGzip(std::string_view header) {
  size_t pos = 0;
  while (pos <= header.size()) {
    size_t comma = header.find(',', pos);
    if (comma == std::string_view::npos) comma = header.size();
    std::string_view item = header.substr(pos, comma - pos);
    while (!item.empty() && std::isspace(static_cast<unsigned char>(item.front())))
      item.remove_prefix(1);
    size_t semi = item.find(';');
    std::string coding(item.substr(0, semi));
    while (!coding.empty() && std::isspace(static_cast<unsigned char>(coding.back())))
      coding.pop_back();
    for (char& c : coding) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (coding == "gzip" || coding == "x-gzip" || coding == "*") {
      std::string_view params = semi == std::string_view::npos ? "" : item.substr(semi + 1);
      size_t q = params.find("q=");
      if (q == std::string_view::npos) return true;
      std::string_view value = params.substr(q + 2);
      // q=0, q=0.0, q=0.000 refuse the coding.
      bool zero = !value.empty() && value.front() == '0';
      for (size_t i = 1; zero && i < value.size() && value[i] != ' '; ++i) {
        zero = value[i] == '.' || value[i] == '0';
      }
      if (!zero) return true;
    }
    pos = comma + 1;
  }
  return false;
}

std::string GzipCompress(std::string_view data) {
  z_stream z{};
  // Level 1: the results of a large job are compressed page by page while the client waits.
  if (deflateInit2(&z, 1, Z_DEFLATED, kGzipWindowBits, 8, Z_DEFAULT_STRATEGY) != Z_OK) return {};
  std::string out;
  out.resize(deflateBound(&z, static_cast<uLong>(data.size())));
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  z.avail_in = static_cast<uInt>(data.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  int rc = deflate(&z, Z_FINISH);
  out.resize(z.total_out);
  deflateEnd(&z);
  return rc == Z_STREAM_END ? out : std::string();
}

std::string GzipDecompress(std::string_view data) {
  z_stream z{};
  if (inflateInit2(&z, kGzipWindowBits) != Z_OK) return {};
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  z.avail_in = static_cast<uInt>(data.size());
  std::string out;
  char buf[65536];
  int rc = Z_OK;
  while (rc == Z_OK) {
    z.next_out = reinterpret_cast<Bytef*>(buf);
    z.avail_out = sizeof buf;
    rc = inflate(&z, Z_NO_FLUSH);
    out.append(buf, sizeof buf - z.avail_out);
  }
  inflateEnd(&z);
  return rc == Z_STREAM_END ? out : std::string();
}

}  // namespace sfbridge::sfsim
