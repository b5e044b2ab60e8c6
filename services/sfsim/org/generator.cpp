#include "sfsim/org/generator.h"

#include <string>
#include <string_view>

#include "common/core/strings.h"
#include "sfsim/org/validation.h"
#include "sfsim/soql/datetime.h"

namespace sfbridge::sfsim::org {

using soql::FieldType;
using soql::Value;

enum class Generator::Hint : std::uint8_t {
  kSkip,  // set by the org (system fields, formulas, full names, auto-numbers)
  kGeneric,
  kFirstName,
  kLastName,
  kCompany,
  kOpportunityName,
  kProductName,
  kShipmentName,
  kEmail,
  kUsername,
  kAlias,
  kTitle,
  kDepartment,
  kStreet,
  kCity,
  kState,
  kPostalCode,
  kCountry,
  kLatitude,
  kLongitude,
  kDescription,
  kExternalId,
  kLegacyId,
  kCode,
  kStage,
  kProbability,
};

namespace {

constexpr std::int64_t kDayMs = 86'400'000;
constexpr std::int64_t kTwoYearsMs = 730 * kDayMs;

// Names in several scripts, with apostrophes, double quotes and backslashes: the values that
// break naive escaping in SQL, JSON and CSV.
constexpr const char* kFirstNames[] = {"James",         "María",    "Zoë",      "Łukasz",  "Søren",
                                       "Aoife",         "François", "Jürgen",   "Thị Lan", "Olga",
                                       "Chloé",         "Ahmed",    "Yuki",     "Siobhán", "D'Arcy",
                                       "Ana-Lucía",     "伟",       "Кирилл",   "محمد",    "Émile",
                                       "Björn",         "Renée",    "John",     "Mary",    "Priya",
                                       "Sam \"Sammy\"", "Jo\\Anne", "Nikolaos", "Ingrid",  "Kwame"};
constexpr const char* kLastNames[] = {
    "Smith",       "O'Brien",    "Müller",       "García",      "Nakamura", "Kowalski",
    "Ødegaard",    "D'Angelo",   "van der Berg", "Smith-Jones", "Nguyễn",   "Петров",
    "王",          "Fernández",  "Ní Bhriain",   "Zażółć",      "Dubois",   "Rossi",
    "Cohen",       "Kim",        "Johnson",      "Brown",       "Patel",    "Okafor",
    "Back\\slash", "\"Quoted\"", "Ιωάννου",      "Lefèvre",     "Öztürk",   "Williams"};
constexpr const char* kCompanyWords[] = {"Acme",
                                         "Globex",
                                         "Initech",
                                         "Umbrella",
                                         "Stark",
                                         "Wayne",
                                         "Zürich Rück",
                                         "Café Łódź",
                                         "O'Reilly",
                                         "\"Quoted\" Widgets",
                                         "Back\\Slash Labs",
                                         "Søndergaard",
                                         "東京精密",
                                         "Hooli",
                                         "Vandelay",
                                         "Soylent",
                                         "Cyberdyne",
                                         "Tyrell",
                                         "Wonka",
                                         "Gringotts",
                                         "Nakatomi",
                                         "Aperture"};
constexpr const char* kCompanySuffixes[] = {"Inc.", "GmbH", "S.A.", "Ltd",  "& Sons",
                                            "LLC",  "K.K.", "AG",   "SARL", "Corp."};
constexpr const char* kProducts[] = {"Router",        "Switch",  "License",      "Support Plan",
                                     "Sensor",        "Gateway", "Café Machine", "Ünit",
                                     "Cable \"Pro\"", "Kit"};
constexpr const char* kTitles[] = {"CEO",       "CFO",
                                   "VP Sales",  "Director, R&D",
                                   "Buyer",     "Head of \"Ops\"",
                                   "Ingénieur", "Office Manager",
                                   "CTO"};
constexpr const char* kDepartments[] = {"Sales", "Finance",   "IT",         "Procurement",
                                        "R&D",   "Marketing", "Opérations", "Legal"};
constexpr const char* kStreets[] = {"Main St",        "Rue de la Paix", "Königsallee",
                                    "Elm Street",     "Calle Mayor",    "O'Connell Street",
                                    "Nevsky Prospekt"};
constexpr const char* kCities[] = {"San Francisco", "Paris", "Düsseldorf", "Dublin",   "Madrid",
                                   "São Paulo",     "Tōkyō", "Kraków",     "New York", "Zürich"};
constexpr const char* kStates[] = {"CA",     "NY", "Île-de-France", "NRW",         "Leinster",
                                   "Madrid", "SP", "Tokyo",         "Małopolskie", "ZH"};
constexpr const char* kCountries[] = {"USA",    "France", "Germany", "Ireland",    "Spain",
                                      "Brazil", "Japan",  "Poland",  "Switzerland"};
constexpr const char* kWords[] = {"lorem",       "ipsum",      "dolor", "sit",      "amet",
                                  "consectetur", "adipiscing", "élit",  "sed",      "do",
                                  "eiusmod",     "tempor",     "ünd",   "«quoted»", "it's",
                                  "back\\slash", "\"double\"", "日本"};
constexpr const char* kDomains[] = {"example.com", "example.org", "test.example.net"};

// Keeps the first `length` characters of UTF-8 `text`.
std::string Truncate(std::string text, int length) {
  if (length <= 0 || CharacterCount(text) <= static_cast<std::size_t>(length)) return text;
  std::size_t count = 0, i = 0;
  for (; i < text.size(); ++i) {
    if ((static_cast<unsigned char>(text[i]) & 0xC0) != 0x80 &&
        count++ == static_cast<std::size_t>(length))
      break;
  }
  text.resize(i);
  return text;
}

// `units` of 10^-scale as a decimal: (123456, 2) → "1234.56".
Value Fixed(std::int64_t units, int scale) {
  const bool negative = units < 0;
  std::string digits = std::to_string(negative ? -units : units);
  if (scale > 0) {
    if (digits.size() <= static_cast<std::size_t>(scale)) {
      digits.insert(0, static_cast<std::size_t>(scale) + 1 - digits.size(), '0');
    }
    digits.insert(digits.size() - static_cast<std::size_t>(scale), ".");
  }
  if (negative) digits.insert(0, "-");
  return *Value::ParseNumber(digits);
}

std::int64_t Pow10(int n) {
  std::int64_t p = 1;
  for (int i = 0; i < n && i < 18; ++i) p *= 10;
  return p;
}

// Lower-case ASCII letters of `text`, for e-mail addresses.
std::string AsciiLetters(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (c >= 'A' && c <= 'Z') out.push_back(static_cast<char>(c + 32));
    if (c >= 'a' && c <= 'z') out.push_back(c);
  }
  return out;
}

std::string Sentence(Random& random, int words) {
  std::string text;
  for (int i = 0; i < words; ++i) {
    if (i > 0) text.push_back(random.Chance(10) ? '\n' : ' ');
    text.append(random.Pick(kWords));
  }
  return text;
}

Generator::Hint HintOf(const ObjectSchema& schema, std::size_t index) {
  using H = Generator::Hint;
  const FieldDef& f = schema.field(index);
  const std::string& n = f.name;
  const bool read_only = !f.createable && !f.updateable;
  if (f.calculated || f.auto_number || f.type == "id" || f.type == "address" ||
      (read_only && (n == "Name" || n == "IsDeleted" || f.soql_type == FieldType::kReference ||
                     (f.soql_type == FieldType::kDateTime && n != "LastLoginDate")))) {
    return H::kSkip;
  }
  const std::string_view object = schema.Name();
  if (n == "FirstName") return H::kFirstName;
  if (n == "LastName") return H::kLastName;
  if (n == "Company" || (n == "Name" && object == "Account")) return H::kCompany;
  if (n == "Name" && object == "Opportunity") return H::kOpportunityName;
  if (n == "Name" && object == "Product2") return H::kProductName;
  if (n == "Name") return H::kShipmentName;
  if (n == "Email") return H::kEmail;
  if (n == "Username") return H::kUsername;
  if (n == "Alias") return H::kAlias;
  if (n == "Title") return H::kTitle;
  if (n == "Department") return H::kDepartment;
  if (n.ends_with("Street")) return H::kStreet;
  if (n.ends_with("City")) return H::kCity;
  if (n.ends_with("State")) return H::kState;
  if (n.ends_with("PostalCode")) return H::kPostalCode;
  if (n.ends_with("Country")) return H::kCountry;
  if (n.ends_with("Latitude")) return H::kLatitude;
  if (n.ends_with("Longitude")) return H::kLongitude;
  if (n == "Description" || n == "Notes__c") return H::kDescription;
  if (n == "External_Id__c") return H::kExternalId;
  if (n == "Legacy_Id__c") return H::kLegacyId;
  if (n == "AccountNumber" || n == "ProductCode" || n == "StockKeepingUnit") return H::kCode;
  if (n == "StageName") return H::kStage;
  if (n == "Probability") return H::kProbability;
  return H::kGeneric;
}

int ProbabilityOfStage(std::string_view stage) {
  if (stage == "Closed Won") return 100;
  if (stage == "Closed Lost") return 0;
  if (stage == "Negotiation/Review") return 90;
  if (stage == "Proposal/Price Quote") return 75;
  if (stage == "Prospecting") return 10;
  return 20 + static_cast<int>(stage.size() % 5) * 10;
}

}  // namespace

Generator::Generator(const Store& store, std::int64_t now_ms) : store_(store), now_ms_(now_ms) {
  for (const auto& schema : store.schemas) hints_.push_back(HintsFor(*schema));
}

std::vector<Generator::Hint> Generator::HintsFor(const ObjectSchema& schema) const {
  std::vector<Hint> hints;
  for (std::size_t i = 0; i < schema.size(); ++i) {
    hints.push_back(i == schema.id || i == schema.created_by || i == schema.last_modified_by
                        ? Hint::kSkip
                        : HintOf(schema, i));
  }
  return hints;
}

bool Generator::Changeable(const ObjectSchema& schema, std::size_t field) {
  const FieldDef& f = schema.field(field);
  return f.updateable && !f.unique && !f.calculated && HintOf(schema, field) != Hint::kSkip;
}

Value Generator::PickParent(const FieldDef& field, Random& random) const {
  const Table* parent = store_.TableOf(field.reference_to.front());
  if (parent == nullptr || parent->live().empty()) return Value();
  return Value::String(parent->live()[random.Below(parent->live().size())]->id);
}

Value Generator::GenerateByType(const FieldDef& f, Random& random) const {
  switch (f.soql_type) {
    case FieldType::kReference:
      return PickParent(f, random);
    case FieldType::kBoolean:
      return Value::Boolean(random.Chance(30));
    case FieldType::kInt:
    case FieldType::kLong:
      return Value::Integer(random.Between(0, std::min<std::int64_t>(Pow10(f.digits) - 1, 50000)));
    case FieldType::kCurrency:
      return Fixed(random.Between(100, 2'000'000) * Pow10(f.scale), f.scale);
    case FieldType::kPercent:
      return Fixed(random.Between(0, 100 * Pow10(f.scale)), f.scale);
    case FieldType::kDouble:
      return Fixed(random.Between(0, 100'000 * Pow10(std::min(f.scale, 3))), std::min(f.scale, 3));
    case FieldType::kDate:
      return Value::Date(static_cast<std::int32_t>(
          (now_ms_ + random.Between(-kTwoYearsMs, kTwoYearsMs / 2)) / kDayMs));
    case FieldType::kDateTime:
      return Value::DateTime(now_ms_ - random.Between(0, kTwoYearsMs));
    case FieldType::kTime:
      return Value::Time(static_cast<std::int32_t>(random.Below(24 * 60) * 60'000));
    case FieldType::kPicklist:
      return Value::String(f.picklist_values[random.Below(f.picklist_values.size())].value);
    case FieldType::kMultiPicklist: {
      std::string text;
      for (const PicklistEntry& entry : f.picklist_values) {
        if (!random.Chance(35)) continue;
        if (!text.empty()) text.push_back(';');
        text.append(entry.value);
      }
      return text.empty() ? Value() : Value::String(std::move(text));
    }
    case FieldType::kEmail:
      return Value::String(core::StrCat("info", random.Below(100000), "@", random.Pick(kDomains)));
    case FieldType::kPhone:
      return Value::String(
          core::StrCat("+1 (", random.Between(200, 999), ") 555-", 1000 + random.Below(9000)));
    case FieldType::kUrl:
      return Value::String(core::StrCat("https://www.", AsciiLetters(random.Pick(kCompanyWords)),
                                        ".example.com/", random.Below(100000)));
    default:
      return Value::String(
          Truncate(Sentence(random, 1 + static_cast<int>(random.Below(6))), f.length));
  }
}

Value Generator::Generate(const FieldDef& f, Hint hint, Random& random,
                          std::uint64_t sequence) const {
  if (hint == Hint::kSkip) return Value();
  if (f.nillable && f.createable && f.soql_type != FieldType::kBoolean && random.Chance(8) &&
      hint != Hint::kLastName && hint != Hint::kCompany && hint != Hint::kStage) {
    return Value();
  }
  std::string text;
  switch (hint) {
    case Hint::kFirstName:
      text = random.Pick(kFirstNames);
      break;
    case Hint::kLastName:
      text = random.Pick(kLastNames);
      break;
    case Hint::kCompany:
      text = core::StrCat(random.Pick(kCompanyWords), " ", random.Pick(kCompanySuffixes));
      if (random.Chance(50)) core::StrAppend(&text, " #", sequence);
      break;
    case Hint::kOpportunityName:
      text = core::StrCat(random.Pick(kCompanyWords), " - ", random.Pick(kProducts), " ",
                          random.Between(1, 500), " units");
      break;
    case Hint::kProductName:
      text = core::StrCat(random.Pick(kProducts), " ", char('A' + random.Below(26)),
                          random.Below(1000));
      break;
    case Hint::kShipmentName:
      text = core::StrCat("SHP-", sequence);
      break;
    case Hint::kEmail:
    case Hint::kUsername:
      text = core::StrCat("user", sequence, "@", random.Pick(kDomains));
      break;
    case Hint::kAlias:
      text = core::StrCat("u", sequence % 10000000);
      break;
    case Hint::kTitle:
      text = random.Pick(kTitles);
      break;
    case Hint::kDepartment:
      text = random.Pick(kDepartments);
      break;
    case Hint::kStreet:
      text = core::StrCat(random.Between(1, 9999), " ", random.Pick(kStreets));
      if (random.Chance(20)) core::StrAppend(&text, "\nSuite ", random.Between(1, 900));
      break;
    case Hint::kCity:
      text = random.Pick(kCities);
      break;
    case Hint::kState:
      text = random.Pick(kStates);
      break;
    case Hint::kPostalCode:
      text = std::to_string(random.Between(10000, 99999));
      break;
    case Hint::kCountry:
      text = random.Pick(kCountries);
      break;
    case Hint::kLatitude:
      return Fixed(random.Between(-90'000'000, 90'000'000), 6);
    case Hint::kLongitude:
      return Fixed(random.Between(-180'000'000, 180'000'000), 6);
    case Hint::kDescription:
      // Mostly a line, sometimes several kilobytes.
      text = Sentence(random, random.Chance(2) ? 300 : 3 + static_cast<int>(random.Below(12)));
      break;
    case Hint::kExternalId:
      text = core::StrCat("EXT-", sequence);
      break;
    case Hint::kLegacyId:
      text = core::StrCat("L-", sequence / 3);  // shared by up to three records
      break;
    case Hint::kCode:
      text = core::StrCat(char('A' + random.Below(26)), char('A' + random.Below(26)), "-",
                          random.Below(1'000'000));
      break;
    default:
      return GenerateByType(f, random);
  }
  return Value::String(Truncate(std::move(text), f.length));
}

Value Generator::FieldValue(const Table& table, std::size_t field, Random& random,
                            std::uint64_t sequence) const {
  const int object = store_.FindObject(table.schema().Name());
  return Generate(table.schema().field(field), hints_[static_cast<std::size_t>(object)][field],
                  random, sequence);
}

std::vector<Value> Generator::NewRecord(const Table& table, Random& random,
                                        std::uint64_t sequence) const {
  const ObjectSchema& schema = table.schema();
  const std::vector<Hint>& hints =
      hints_[static_cast<std::size_t>(store_.FindObject(schema.Name()))];
  std::vector<Value> values(schema.size());
  std::optional<std::size_t> first, last, email, stage, probability;
  for (std::size_t i = 0; i < schema.size(); ++i) {
    values[i] = Generate(schema.field(i), hints[i], random, sequence);
    switch (hints[i]) {
      case Hint::kFirstName:
        first = i;
        break;
      case Hint::kLastName:
        last = i;
        break;
      case Hint::kEmail:
        email = i;
        break;
      case Hint::kStage:
        stage = i;
        break;
      case Hint::kProbability:
        probability = i;
        break;
      default:
        break;
    }
  }
  if (email && last && !values[*email].IsNull()) {
    std::string local =
        first && !values[*first].IsNull() ? AsciiLetters(values[*first].Text()) : "";
    const std::string surname = AsciiLetters(values[*last].Text());
    if (!surname.empty()) local = local.empty() ? surname : core::StrCat(local, ".", surname);
    if (local.empty()) local = "person";
    values[*email] =
        Value::String(core::StrCat(local, sequence, "@", kDomains[sequence % std::size(kDomains)]));
  }
  if (stage && probability && !values[*stage].IsNull()) {
    values[*probability] = Value::Integer(ProbabilityOfStage(values[*stage].Text()));
  }
  schema.Recompute(values);
  // Rules are kept by clearing the field a broken rule names.
  for (int attempt = 0; attempt < 4; ++attempt) {
    const ObjectDef::Rule* rule = schema.BrokenRule(values);
    if (rule == nullptr) break;
    if (auto index = schema.FindField(rule->field)) values[*index] = Value();
  }
  return values;
}

}  // namespace sfbridge::sfsim::org
