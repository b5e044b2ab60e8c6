#include "sfsim/org/catalog.h"

#include <cstdio>
#include <cstdlib>
#include <string>
#include <utility>

#include "sfsim/org/field_builders.h"

namespace sfbridge::sfsim::org {
namespace {

using soql::Value;
using Values = std::vector<Value>;

const std::vector<std::string> kLeadSources = {"Web", "Phone Inquiry", "Partner Referral",
                                               "Purchased List", "Other"};
const std::vector<std::string> kIndustries = {
    "Agriculture", "Banking", "Biotechnology", "Construction",      "Education",
    "Electronics", "Energy",  "Finance",       "Healthcare",        "Insurance",
    "Media",       "Retail",  "Technology",    "Telecommunications"};
const std::vector<std::string> kRatings = {"Hot", "Warm", "Cold"};
const std::vector<std::string> kSalutations = {"Mr.", "Ms.", "Mrs.", "Dr.", "Prof."};
const std::vector<std::string> kStages = {
    "Prospecting",         "Qualification",       "Needs Analysis",       "Value Proposition",
    "Id. Decision Makers", "Perception Analysis", "Proposal/Price Quote", "Negotiation/Review",
    "Closed Won",          "Closed Lost"};

ObjectDef Object(std::string name, std::string label, std::string plural, std::string prefix) {
  ObjectDef object;
  object.custom = name.ends_with("__c");
  object.name = std::move(name);
  object.label = std::move(label);
  object.label_plural = std::move(plural);
  object.key_prefix = std::move(prefix);
  return object;
}

void Add(ObjectDef& object, std::vector<FieldDef> fields) {
  for (FieldDef& field : fields) object.fields.push_back(std::move(field));
}

// "First Last", or "Last" alone: what Salesforce shows as a person's Name.
Formula FullName(const ObjectDef& object) {
  const std::size_t first = FieldIndex(object, "FirstName");
  const std::size_t last = FieldIndex(object, "LastName");
  return {FieldIndex(object, "Name"), [first, last](const Values& v) {
            if (v[last].IsNull()) return Value();
            if (v[first].IsNull()) return Value::String(std::string(v[last].Text()));
            std::string name(v[first].Text());
            name.append(" ").append(v[last].Text());
            return Value::String(std::move(name));
          }};
}

CatalogEntry User() {
  ObjectDef o = Object("User", "User", "Users", "005");
  o.deletable = false;
  o.undeletable = false;
  Add(o,
      {IdField(), Unique(Required(TextField("Username", "Username", 80)), false),
       TextField("FirstName", "First Name", 40), Required(TextField("LastName", "Last Name", 80)),
       ReadOnly(Required(TextField("Name", "Full Name", 121))),
       Required(TextField("Alias", "Alias", 8)), Required(EmailField("Email", "Email")),
       PhoneField("Phone", "Phone"), TextField("Title", "Title", 80),
       TextField("Department", "Department", 80), BooleanField("IsActive", "Active", true),
       Required(PicklistField("TimeZoneSidKey", "Time Zone",
                              {"America/Los_Angeles", "America/New_York", "Europe/London",
                               "Europe/Paris", "Asia/Tokyo"},
                              true)),
       Required(PicklistField("LocaleSidKey", "Locale",
                              {"en_US", "en_GB", "fr_FR", "de_DE", "ja_JP"}, true)),
       Required(PicklistField("LanguageLocaleKey", "Language", {"en_US", "fr", "de", "ja"}, true)),
       Required(PicklistField("EmailEncodingKey", "Email Encoding", {"UTF-8", "ISO-8859-1"}, true)),
       ReadOnly(DateTimeField("LastLoginDate", "Last Login"))});
  Add(o, SystemFields());
  CatalogEntry entry{std::move(o), {}};
  entry.formulas.push_back(FullName(entry.def));
  return entry;
}

CatalogEntry Account() {
  ObjectDef o = Object("Account", "Account", "Accounts", "001");
  Add(o, {IdField(), Required(TextField("Name", "Account Name", 255)),
          TextField("AccountNumber", "Account Number", 40),
          PicklistField(
              "Type", "Account Type",
              {"Prospect", "Customer - Direct", "Customer - Channel", "Channel Partner / Reseller",
               "Installation Partner", "Technology Partner", "Other"}),
          PicklistField("Industry", "Industry", kIndustries),
          PicklistField("Rating", "Account Rating", kRatings), PhoneField("Phone", "Account Phone"),
          PhoneField("Fax", "Account Fax"), UrlField("Website", "Website")});
  Add(o, AddressFields("Billing", "Billing"));
  Add(o, {CurrencyField("AnnualRevenue", "Annual Revenue", 18, 0),
          IntField("NumberOfEmployees", "Employees", 8),
          PicklistField("Ownership", "Ownership", {"Public", "Private", "Subsidiary", "Other"}),
          TextAreaField("Description", "Account Description", 32000),
          PicklistField("Tier__c", "Tier", {"Gold", "Silver", "Bronze"}, true),
          DateField("Customer_Since__c", "Customer Since"), OwnerField()});
  Add(o, SystemFields());
  return {std::move(o), {}};
}

CatalogEntry Product2() {
  ObjectDef o = Object("Product2", "Product", "Products", "01t");
  Add(o,
      {IdField(), Required(TextField("Name", "Product Name", 255)),
       TextField("ProductCode", "Product Code", 255),
       TextAreaField("Description", "Product Description", 4000),
       PicklistField("Family", "Product Family", {"Hardware", "Software", "Services"}),
       BooleanField("IsActive", "Active"),
       PicklistField("QuantityUnitOfMeasure", "Quantity Unit Of Measure", {"Each", "Hours", "Kg"}),
       TextField("StockKeepingUnit", "Product SKU", 180), UrlField("DisplayUrl", "Display URL")});
  Add(o, SystemFields());
  return {std::move(o), {}};
}

CatalogEntry Contact() {
  ObjectDef o = Object("Contact", "Contact", "Contacts", "003");
  Add(o,
      {IdField(), ReferenceField("AccountId", "Account ID", "Account", "Account"),
       Required(TextField("LastName", "Last Name", 80)), TextField("FirstName", "First Name", 40),
       PicklistField("Salutation", "Salutation", kSalutations),
       ReadOnly(Required(TextField("Name", "Full Name", 121))), TextField("Title", "Title", 128),
       TextField("Department", "Department", 80), EmailField("Email", "Email"),
       PhoneField("Phone", "Business Phone"), PhoneField("MobilePhone", "Mobile Phone"),
       DateField("Birthdate", "Birthdate"),
       PicklistField("LeadSource", "Lead Source", kLeadSources),
       BooleanField("HasOptedOutOfEmail", "Email Opt Out"),
       BooleanField("DoNotCall", "Do Not Call"),
       TextAreaField("Description", "Contact Description", 32000),
       PicklistField("Level__c", "Level", {"Primary", "Secondary", "Tertiary"}),
       ExternalId(TextField("Legacy_Id__c", "Legacy Id", 30)), OwnerField()});
  Add(o, SystemFields());
  CatalogEntry entry{std::move(o), {}};
  entry.formulas.push_back(FullName(entry.def));
  return entry;
}

CatalogEntry Lead() {
  ObjectDef o = Object("Lead", "Lead", "Leads", "00Q");
  Add(o, {IdField(), Required(TextField("LastName", "Last Name", 80)),
          TextField("FirstName", "First Name", 40),
          PicklistField("Salutation", "Salutation", kSalutations),
          ReadOnly(Required(TextField("Name", "Full Name", 121))), TextField("Title", "Title", 128),
          Required(TextField("Company", "Company", 255)), EmailField("Email", "Email"),
          PhoneField("Phone", "Phone"), UrlField("Website", "Website"),
          Required(PicklistField("Status", "Status",
                                 {"Open - Not Contacted", "Working - Contacted",
                                  "Closed - Converted", "Closed - Not Converted"},
                                 true, "Open - Not Contacted")),
          PicklistField("LeadSource", "Lead Source", kLeadSources),
          PicklistField("Industry", "Industry", kIndustries),
          PicklistField("Rating", "Rating", kRatings),
          CurrencyField("AnnualRevenue", "Annual Revenue", 18, 0),
          IntField("NumberOfEmployees", "Employees", 8),
          ReadOnly(BooleanField("IsConverted", "Converted")),
          TextAreaField("Description", "Description", 32000), OwnerField()});
  Add(o, SystemFields());
  CatalogEntry entry{std::move(o), {}};
  entry.formulas.push_back(FullName(entry.def));
  return entry;
}

std::string FixedText(double value, int scale) {
  char buffer[64];
  std::snprintf(buffer, sizeof(buffer), "%.*f", scale, value);
  return buffer;
}

CatalogEntry Opportunity() {
  ObjectDef o = Object("Opportunity", "Opportunity", "Opportunities", "006");
  Add(o,
      {IdField(), ReferenceField("AccountId", "Account ID", "Account", "Account"),
       Required(TextField("Name", "Name", 120)), TextAreaField("Description", "Description", 32000),
       Required(PicklistField("StageName", "Stage", kStages, true)),
       CurrencyField("Amount", "Amount", 18, 2), PercentField("Probability", "Probability (%)"),
       Calculated(CurrencyField("ExpectedRevenue", "Expected Amount", 18, 2),
                  "Amount * Probability / 100"),
       Required(DateField("CloseDate", "Close Date")),
       PicklistField("Type", "Opportunity Type",
                     {"New Customer", "Existing Customer - Upgrade",
                      "Existing Customer - Replacement", "Existing Customer - Downgrade"}),
       TextField("NextStep", "Next Step", 255),
       PicklistField("LeadSource", "Lead Source", kLeadSources),
       Calculated(BooleanField("IsClosed", "Closed"),
                  "ISPICKVAL(StageName, 'Closed Won') || "
                  "ISPICKVAL(StageName, 'Closed Lost')"),
       Calculated(BooleanField("IsWon", "Won"), "ISPICKVAL(StageName, 'Closed Won')"),
       DoubleField("TotalOpportunityQuantity", "Quantity", 18, 2), OwnerField()});
  Add(o, SystemFields());
  CatalogEntry entry{std::move(o), {}};
  const ObjectDef& def = entry.def;
  const std::size_t amount = FieldIndex(def, "Amount");
  const std::size_t probability = FieldIndex(def, "Probability");
  const std::size_t stage = FieldIndex(def, "StageName");
  entry.formulas.push_back({FieldIndex(def, "ExpectedRevenue"), [=](const Values& v) {
                              if (v[amount].IsNull() || v[probability].IsNull()) return Value();
                              const double expected =
                                  v[amount].Double() * v[probability].Double() / 100;
                              return *Value::ParseNumber(FixedText(expected, 2));
                            }});
  entry.formulas.push_back({FieldIndex(def, "IsClosed"), [=](const Values& v) {
                              return Value::Boolean(!v[stage].IsNull() &&
                                                    v[stage].Text().starts_with("Closed "));
                            }});
  entry.formulas.push_back({FieldIndex(def, "IsWon"), [=](const Values& v) {
                              return Value::Boolean(!v[stage].IsNull() &&
                                                    v[stage].Text() == "Closed Won");
                            }});
  entry.def.rules.push_back(
      {"Amount_Not_Negative", "Amount", "Amount must not be negative.",
       [amount](const Values& v) { return !v[amount].IsNull() && v[amount].Double() < 0; }});
  return entry;
}

CatalogEntry Invoice() {
  ObjectDef o = Object("Invoice__c", "Invoice", "Invoices", "a00");
  FieldDef name = AutoNumber(TextField("Name", "Invoice Number", 80));
  name.custom = false;
  Add(o, {IdField(), OwnerField(), std::move(name),
          ReferenceField("Account__c", "Account", "Account", "Account__r"),
          CurrencyField("Amount__c", "Amount", 16, 2),
          PicklistField("Status__c", "Status", {"Draft", "Sent", "Paid", "Void"}, true, "Draft"),
          DateField("Due_Date__c", "Due Date"), DateTimeField("Paid_At__c", "Paid At"),
          Unique(TextField("External_Id__c", "External Id", 40), true),
          PercentField("Discount__c", "Discount", 5, 2), IntField("Line_Count__c", "Line Count", 4),
          TextAreaField("Notes__c", "Notes", 32768)});
  Add(o, SystemFields());
  CatalogEntry entry{std::move(o), {}};
  const std::size_t paid_at = FieldIndex(entry.def, "Paid_At__c");
  const std::size_t status = FieldIndex(entry.def, "Status__c");
  entry.def.rules.push_back({"Paid_At_Requires_Paid", "Paid_At__c",
                             "Paid At can only be set on a paid invoice.", [=](const Values& v) {
                               return !v[paid_at].IsNull() &&
                                      (v[status].IsNull() || v[status].Text() != "Paid");
                             }});
  return entry;
}

CatalogEntry Shipment() {
  ObjectDef o = Object("Shipment__c", "Shipment", "Shipments", "a01");
  FieldDef name = Required(TextField("Name", "Shipment Name", 80));
  name.custom = false;
  Add(o, {IdField(), OwnerField(), std::move(name),
          Required(ReferenceField("Invoice__c", "Invoice", "Invoice__c", "Invoice__r")),
          PicklistField("Carrier__c", "Carrier", {"UPS", "FedEx", "DHL", "USPS", "La Poste"}),
          MultiPicklistField("Services__c", "Services",
                             {"Express", "Signature", "Saturday Delivery", "Insurance", "Fragile"},
                             true),
          DoubleField("Weight_Kg__c", "Weight (kg)", 10, 3), BooleanField("Insured__c", "Insured"),
          TimeField("Pickup_Time__c", "Pickup Time"), UrlField("Tracking_Url__c", "Tracking URL"),
          PercentField("Progress__c", "Progress", 5, 2),
          DateTimeField("Shipped_At__c", "Shipped At")});
  Add(o, SystemFields());
  return {std::move(o), {}};
}

}  // namespace

std::size_t FieldIndex(const ObjectDef& object, std::string_view name) {
  for (std::size_t i = 0; i < object.fields.size(); ++i) {
    if (object.fields[i].name == name) return i;
  }
  std::abort();  // a typo in the catalog itself
}

std::vector<CatalogEntry> BuildCatalog() {
  std::vector<CatalogEntry> catalog;
  catalog.push_back(User());
  catalog.push_back(Account());
  catalog.push_back(Product2());
  catalog.push_back(Contact());
  catalog.push_back(Lead());
  catalog.push_back(Opportunity());
  catalog.push_back(Invoice());
  catalog.push_back(Shipment());
  return catalog;
}

}  // namespace sfbridge::sfsim::org
