#pragma once

// The simulator's view of one HTTP exchange, free of any server library, so that every route
// can be tested by calling it with a Request and looking at the Response.

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace sfbridge::sfsim {

struct Request {
  std::string method;  // GET, POST, PATCH, DELETE, PUT
  std::string path;    // decoded path without the query string: /services/data/v59.0/query
  std::map<std::string, std::string> query;    // decoded query parameters
  std::map<std::string, std::string> headers;  // names lower-cased
  std::string body;

  // The header's value, or "" when absent. `name` in lower case.
  std::string Header(std::string_view name) const;
  std::string Param(std::string_view name) const;
};

struct Response {
  int status = 200;
  std::string content_type = "application/json;charset=UTF-8";
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  // Fault injection: close the connection without answering.
  bool drop_connection = false;
  // Fault injection: the head (its Content-Length the whole body's) and the first half of the
  // body sent, then the connection closed.
  bool cut_body = false;
  // Fault injection or modelled latency: the server waits this long before answering.
  int64_t delay_ms = 0;
};

// Salesforce's single-request error shape: [{"message","errorCode","fields"}].
Response ErrorResponse(int status, std::string_view error_code, std::string_view message,
                       const std::vector<std::string>& fields = {});

// Splits "a=1&b=x%20y" into decoded pairs ('+' is a space in form bodies and query strings).
std::map<std::string, std::string> ParseFormEncoded(std::string_view text);
// Percent-decoding; invalid escapes are kept as they are.
std::string UrlDecode(std::string_view text, bool plus_is_space);

}  // namespace sfbridge::sfsim
