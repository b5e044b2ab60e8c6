#include "cli/doctor.h"

#include "common/core/status.h"
#include "common/core/strings.h"
#include "common/kafka/admin.h"
#include "common/postgres/connection.h"

namespace sfbridge::cli {

void AddDoctorKeys(core::ConfigSchema& schema) {
  schema
      .Add({.name = "postgres.url",
            .help = "PostgreSQL connection URI or libpq string of the database sfbridge syncs "
                    "into, e.g. postgresql://sfbridge@127.0.0.1:5432/app.",
            .required = true,
            .secret = true})
      .Add({.name = "kafka.brokers",
            .help = "Kafka bootstrap servers, host:port[,host:port...].",
            .required = true});
}

absl::Status RunDoctor(const core::Config& config, std::ostream& out) {
  const std::string& url = config.GetString("postgres.url");
  absl::StatusOr<std::unique_ptr<postgres::Connection>> pg = postgres::Connection::Connect(url);
  if (!pg.ok()) {
    out << "postgres  FAIL  " << pg.status().message() << "\n";
    return core::Annotate(pg.status(), "check postgres.url and that the server runs");
  }
  absl::StatusOr<postgres::QueryResult> who =
      (*pg)->Exec("SELECT current_user, current_database(), version()");
  if (!who.ok()) return who.status();
  out << "postgres  ok    " << postgres::RedactConninfo(url) << "  user=" << *who->rows[0][0]
      << " database=" << *who->rows[0][1] << " server=" << (*pg)->ServerVersion() << "\n";

  const std::string& brokers = config.GetString("kafka.brokers");
  absl::StatusOr<kafka::ClusterInfo> cluster = kafka::DescribeCluster(brokers);
  if (!cluster.ok()) {
    out << "kafka     FAIL  " << cluster.status().message() << "\n";
    return core::Annotate(cluster.status(), "check kafka.brokers and that the broker runs");
  }
  out << "kafka     ok    " << brokers << "  brokers=" << cluster->brokers
      << " topics=" << cluster->topics << "\n";
  return absl::OkStatus();
}

}  // namespace sfbridge::cli
