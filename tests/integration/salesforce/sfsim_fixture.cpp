#include "tests/integration/salesforce/sfsim_fixture.h"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <stdexcept>

namespace sfbridge::salesforce::integration {

sfsim::SimulatorOptions SmallOrgOptions() {
  sfsim::SimulatorOptions options;
  options.org.seed = 42;
  options.org.counts = {
      {"User", 5}, {"Account", 200}, {"Contact", 5000}, {"Opportunity", 300}, {"Invoice__c", 200}};
  options.admin_enabled = true;
  options.server.threads = 8;
  options.oauth.client_id = std::string(kClientId);
  options.oauth.client_secret = std::string(kClientSecret);
  options.oauth.username = std::string(kUsername);
  options.oauth.password = std::string(kPassword);
  options.oauth.refresh_tokens = {std::string(kRefreshToken)};
  return options;
}

std::unique_ptr<SfsimOrg> SfsimOrg::Start(sfsim::SimulatorOptions options,
                                          PocoTransportOptions transport_options) {
  std::unique_ptr<SfsimOrg> org(new SfsimOrg());
  absl::StatusOr<std::unique_ptr<sfsim::Simulator>> sim =
      sfsim::Simulator::Start(std::move(options), core::SystemClock::Instance());
  if (!sim.ok()) {
    ADD_FAILURE() << "sfsim did not start: " << sim.status();
    return nullptr;
  }
  org->sim_ = *std::move(sim);
  absl::StatusOr<std::unique_ptr<PocoTransport>> transport =
      PocoTransport::Create(std::move(transport_options));
  if (!transport.ok()) {
    ADD_FAILURE() << "transport: " << transport.status();
    return nullptr;
  }
  org->transport_ = *std::move(transport);
  return org;
}

Credentials SfsimOrg::PasswordCredentials() const {
  Credentials c;
  c.flow = AuthFlow::kPassword;
  c.login_url = base_url();
  c.client_id = std::string(kClientId);
  c.client_secret = std::string(kClientSecret);
  c.username = std::string(kUsername);
  c.password = std::string(kPassword);
  return c;
}

ClientOptions SfsimOrg::TestClientOptions(Credentials credentials) const {
  ClientOptions options;
  options.credentials = std::move(credentials);
  options.api_version = std::string(kApiVersion);
  options.initial_backoff = std::chrono::milliseconds(2);
  options.max_backoff = std::chrono::milliseconds(20);
  options.auth_timeout = std::chrono::seconds(10);
  options.request_timeout = std::chrono::seconds(20);
  options.jitter_seed = 7;
  return options;
}

std::unique_ptr<Client> SfsimOrg::NewClient(ClientOptions options) {
  return std::make_unique<Client>(std::move(options), *transport_, core::SystemClock::Instance());
}

Reply SfsimOrg::Send(const std::string& method, const std::string& path, const std::string& body,
                     HttpHeaders headers) {
  HttpRequest request;
  request.method = method;
  request.url = base_url() + path;
  request.headers = std::move(headers);
  if (!body.empty() && !FindHeader(request.headers, "Content-Type")) {
    request.headers.emplace_back("Content-Type", "application/json");
  }
  request.body = body;
  request.timeout = std::chrono::seconds(30);
  absl::StatusOr<HttpResponse> response = transport_->Send(request);
  if (!response.ok()) {
    ADD_FAILURE() << method << " " << path.substr(0, 200) << ": " << response.status();
    return {};
  }
  return {response->status, std::move(response->body), std::move(response->headers)};
}

std::string SfsimOrg::FetchAccessToken() {
  Reply reply = Send("POST", "/services/oauth2/token",
                     EncodeParams({{"grant_type", "password"},
                                   {"client_id", std::string(kClientId)},
                                   {"client_secret", std::string(kClientSecret)},
                                   {"username", std::string(kUsername)},
                                   {"password", std::string(kPassword)}}),
                     {{"Content-Type", "application/x-www-form-urlencoded"}});
  simdjson::dom::parser parser;
  std::string_view token;
  if (reply.status != 200 ||
      parser.parse(reply.body)["access_token"].get_string().get(token) != simdjson::SUCCESS) {
    ADD_FAILURE() << "password flow failed: " << reply.status << " " << reply.body;
    return {};
  }
  return std::string(token);
}

Reply SfsimOrg::Data(const std::string& method, const std::string& path, const std::string& body) {
  for (int attempt = 0; attempt < 2; ++attempt) {
    if (token_.empty()) token_ = FetchAccessToken();
    Reply reply =
        Send(method, DataPath() + path, body, {{"Authorization", core::StrCat("Bearer ", token_)}});
    if (reply.status != 401) return reply;
    token_.clear();
  }
  return Send(method, DataPath() + path, body, {{"Authorization", "Bearer " + token_}});
}

Reply SfsimOrg::Admin(const std::string& method, const std::string& path, const std::string& body) {
  return Send(method, core::StrCat("/__sfsim/", path), body);
}

int64_t SfsimOrg::CallCount(std::string_view kind) {
  Reply reply = Admin("GET", "stats");
  simdjson::dom::parser parser;
  int64_t n = 0;
  if (parser.parse(reply.body)["calls"][kind].get_int64().get(n) != simdjson::SUCCESS) return 0;
  return n;
}

void SfsimOrg::SetFaults(const std::string& json) {
  Reply reply = Admin("POST", "faults", json);
  ASSERT_EQ(reply.status, 200) << reply.body;
}

void SfsimOrg::ClearFaults() {
  SetFaults(R"({"error5xxRate":0,"dropRate":0,"slowRate":0,"slowMs":0,"lockRate":0,"latencyMs":0,)"
            R"("latencyPerRecordUs":0})");
}

std::map<std::string, int64_t> SfsimOrg::Digest(std::string_view object, bool include_deleted) {
  Reply reply =
      Admin("GET", core::StrCat("digest/", object, include_deleted ? "?includeDeleted=true" : ""));
  std::map<std::string, int64_t> out;
  simdjson::dom::parser parser;
  simdjson::dom::object records;
  if (parser.parse(reply.body)["records"].get_object().get(records) != simdjson::SUCCESS) {
    ADD_FAILURE() << "digest of " << object << ": " << reply.body.substr(0, 300);
    return out;
  }
  for (auto [id, stamp] : records) out[std::string(id)] = stamp.get_int64().value_unsafe();
  return out;
}

std::string SfsimOrg::AdminCreate(std::string_view object, const std::string& json) {
  Reply reply = Admin("POST", core::StrCat("records/", object), json);
  simdjson::dom::parser parser;
  std::string_view id;
  if (reply.status != 200 || parser.parse(reply.body)["id"].get_string().get(id) != 0) {
    ADD_FAILURE() << "admin create " << object << ": " << reply.status << " " << reply.body;
    return {};
  }
  return std::string(id);
}

ApiError ExpectApiError(const absl::Status& status) {
  std::optional<ApiError> error = GetApiError(status);
  if (!error) {
    ADD_FAILURE() << "no ApiError in: " << status;
    return {};
  }
  return *error;
}

std::string FieldText(const Record& record, std::string_view name) {
  const FieldValue* value = record.Find(name);
  if (value == nullptr) return {};
  if (value->kind == FieldValue::Kind::kBool) return value->boolean ? "true" : "false";
  return value->text;
}

simdjson::dom::element ParseJson(simdjson::dom::parser& parser, const std::string& json) {
  simdjson::dom::element element;
  if (parser.parse(json).get(element) != simdjson::SUCCESS) {
    ADD_FAILURE() << "not JSON: " << json.substr(0, 300);
  }
  return element;
}

Fields StringFields(std::initializer_list<std::pair<std::string, std::string>> fields) {
  Fields out;
  for (const auto& [name, value] : fields) out.emplace_back(name, FieldValue::String(value));
  return out;
}

namespace {

struct PkeyFree {
  void operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }
};
struct X509Free {
  void operator()(X509* cert) const { X509_free(cert); }
};
struct BioFree {
  void operator()(BIO* bio) const { BIO_free(bio); }
};

std::string BioText(BIO* bio) {
  char* data = nullptr;
  long size = BIO_get_mem_data(bio, &data);
  return std::string(data, static_cast<size_t>(size));
}

}  // namespace

KeyAndCertificate MakeSelfSignedCertificate(std::string_view common_name,
                                            std::string_view subject_alt_names) {
  std::unique_ptr<EVP_PKEY, PkeyFree> key(EVP_RSA_gen(2048));
  if (!key) throw std::runtime_error("EVP_RSA_gen failed");
  std::unique_ptr<X509, X509Free> cert(X509_new());
  X509_set_version(cert.get(), 2);
  ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), 1);
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -60);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), 24L * 3600);
  X509_set_pubkey(cert.get(), key.get());
  X509_NAME* name = X509_get_subject_name(cert.get());
  const std::string cn(common_name);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1, 0);
  X509_set_issuer_name(cert.get(), name);
  if (!subject_alt_names.empty()) {
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, cert.get(), cert.get(), nullptr, nullptr, 0);
    const std::string sans(subject_alt_names);
    X509_EXTENSION* ext =
        X509V3_EXT_conf_nid(nullptr, &ctx, NID_subject_alt_name, const_cast<char*>(sans.c_str()));
    if (ext == nullptr) throw std::runtime_error("bad subjectAltName");
    X509_add_ext(cert.get(), ext, -1);
    X509_EXTENSION_free(ext);
  }
  if (X509_sign(cert.get(), key.get(), EVP_sha256()) == 0) {
    throw std::runtime_error("X509_sign failed");
  }
  KeyAndCertificate out;
  std::unique_ptr<BIO, BioFree> key_bio(BIO_new(BIO_s_mem()));
  PEM_write_bio_PrivateKey(key_bio.get(), key.get(), nullptr, nullptr, 0, nullptr, nullptr);
  out.private_key_pem = BioText(key_bio.get());
  std::unique_ptr<BIO, BioFree> cert_bio(BIO_new(BIO_s_mem()));
  PEM_write_bio_X509(cert_bio.get(), cert.get());
  out.certificate_pem = BioText(cert_bio.get());
  return out;
}

TempDir::TempDir() {
  std::string pattern = (std::filesystem::temp_directory_path() / "sfsim_it_XXXXXX").string();
  if (mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
  path_ = pattern;
}

TempDir::~TempDir() {
  std::error_code ignored;
  std::filesystem::remove_all(path_, ignored);
}

std::string TempDir::Write(std::string_view name, std::string_view contents) const {
  std::string file = (std::filesystem::path(path_) / std::string(name)).string();
  std::ofstream out(file, std::ios::binary);
  out.write(contents.data(), static_cast<std::streamsize>(contents.size()));
  return file;
}

}  // namespace sfbridge::salesforce::integration
