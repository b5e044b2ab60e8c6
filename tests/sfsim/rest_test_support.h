#pragma once

// What tests of RestApi share: an OAuth configuration the org accepts, a token from it, a
// request as a client would send it, and a header of the reply.

#include <map>
#include <string>

#include "sfsim/body_json.h"
#include "sfsim/http/http_types.h"
#include "sfsim/oauth/auth_server.h"
#include "sfsim/org/org.h"
#include "sfsim/rest_api.h"

namespace sfbridge::sfsim::rest_test {

// Password flow for client "cid"/"csecret", user "u@x"/"pw", on http://sim.
inline oauth::OAuthConfig TestOAuthConfig(const org::Org& org) {
  oauth::OAuthConfig config;
  config.client_id = "cid";
  config.client_secret = "csecret";
  config.username = "u@x";
  config.password = "pw";
  config.instance_url = "http://sim";
  config.login_url = "http://sim";
  config.org_id = org.org_id();
  config.user_id = "005000000000001AAA";
  return config;
}

inline Request FormRequest(std::string path, std::string body) {
  Request r;
  r.method = "POST";
  r.path = std::move(path);
  r.headers["content-type"] = "application/x-www-form-urlencoded";
  r.body = std::move(body);
  return r;
}

// An access token for TestOAuthConfig's user; "" when the org refuses.
inline std::string PasswordToken(RestApi& api) {
  Response reply = api.Handle(FormRequest("/services/oauth2/token",
                                          "grant_type=password&client_id=cid&client_secret="
                                          "csecret&username=u%40x&password=pw"));
  return reply.status == 200 ? JsonMemberText(reply.body, "access_token") : "";
}

// A JSON request with a bearer token; the query string of `path_and_query` decoded.
inline Request ApiRequest(std::string method, const std::string& path_and_query,
                          const std::string& token, std::string body,
                          std::map<std::string, std::string> headers) {
  Request r;
  r.method = std::move(method);
  size_t q = path_and_query.find('?');
  r.path = path_and_query.substr(0, q);
  if (q != std::string::npos) r.query = ParseFormEncoded(path_and_query.substr(q + 1));
  r.headers = std::move(headers);
  r.headers["authorization"] = "Bearer " + token;
  r.headers["content-type"] = "application/json";
  r.body = std::move(body);
  return r;
}

inline std::string ResponseHeader(const Response& r, const std::string& name) {
  for (const auto& [k, v] : r.headers) {
    if (k == name) return v;
  }
  return "";
}

}  // namespace sfbridge::sfsim::rest_test
