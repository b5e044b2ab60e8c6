// Writes to synced tables through sfbridge-proxy with pgjdbc, as a Java application would.
//
// Usage: java -cp .:postgresql.jar JdbcClient JDBC_URL USER TAG
//
// What the driver reports is checked here; what reached Salesforce and the tables is checked by
// proxy_e2e_test from the key=value lines printed.

import java.math.BigDecimal;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Properties;

public class JdbcClient {
  static void check(boolean ok, String what) {
    if (!ok)
      throw new AssertionError(what);
  }

  public static void main(String[] args) throws Exception {
    String url = args[0];
    String tag = args[2];
    Properties props = new Properties();
    props.setProperty("user", args[1]);
    // Server-side prepared statements from the first execution on.
    props.setProperty("prepareThreshold", "1");
    try (Connection c = DriverManager.getConnection(url, props)) {
      // A PreparedStatement insert with generated keys (the driver adds RETURNING *).
      String key;
      try (PreparedStatement p = c.prepareStatement(
               "INSERT INTO salesforce.account (name, account_number, annual_revenue,"
                   + " number_of_employees) VALUES (?, ?, ?, ?)",
               Statement.RETURN_GENERATED_KEYS)) {
        p.setString(1, tag + " jdbc");
        p.setString(2, tag + "-key");
        p.setBigDecimal(3, new BigDecimal("2500000.00"));
        p.setInt(4, 12);
        check(p.executeUpdate() == 1, "insert count");
        try (ResultSet keys = p.getGeneratedKeys()) {
          check(keys.next(), "a generated key");
          key = keys.getString("id");
          check(key != null && key.length() == 18, "key " + key);
          check(keys.getString("name").equals(tag + " jdbc"), "returned name");
        }
      }
      System.out.println("key=" + key);

      // Updates with parameters, the same statement several times (prepared on the server).
      try (PreparedStatement p = c.prepareStatement(
               "UPDATE salesforce.account SET number_of_employees = ? WHERE id = ?")) {
        for (int i = 1; i <= 3; i++) {
          p.setInt(1, 100 + i);
          p.setString(2, key);
          check(p.executeUpdate() == 1, "update count " + i);
        }
      }

      // A batch of inserts, then a batch of updates.
      try (PreparedStatement p = c.prepareStatement(
               "INSERT INTO salesforce.account (name, account_number) VALUES (?, ?)")) {
        for (int i = 1; i <= 5; i++) {
          p.setString(1, tag + " batch " + i);
          p.setString(2, tag + "-batch-" + i);
          p.addBatch();
        }
        int[] counts = p.executeBatch();
        check(counts.length == 5, "batch length " + counts.length);
        for (int n : counts) check(n == 1, "batch count " + n);
      }
      try (PreparedStatement p = c.prepareStatement(
               "UPDATE salesforce.account SET rating = ? WHERE account_number = ?")) {
        for (int i = 1; i <= 5; i++) {
          p.setString(1, i % 2 == 0 ? "Warm" : "Cold");
          p.setString(2, tag + "-batch-" + i);
          p.addBatch();
        }
        int[] counts = p.executeBatch();
        for (int n : counts) check(n == 1, "update batch count " + n);
      }

      // An updatable ResultSet: the driver writes the UPDATE itself.
      try (Statement s = c.createStatement(ResultSet.TYPE_FORWARD_ONLY, ResultSet.CONCUR_UPDATABLE);
           ResultSet r = s.executeQuery("SELECT id, website FROM salesforce.account"
               + " WHERE account_number = '" + tag + "-batch-2'")) {
        check(r.next(), "updatable row");
        r.updateString("website", "https://" + tag + ".example.com");
        r.updateRow();
      }

      // RETURNING read as a query, and a delete.
      try (PreparedStatement p = c.prepareStatement(
               "UPDATE salesforce.account SET description = ? WHERE account_number = ?"
               + " RETURNING id, description")) {
        p.setString(1, "returned by jdbc");
        p.setString(2, tag + "-batch-1");
        try (ResultSet r = p.executeQuery()) {
          check(r.next() && r.getString(2).equals("returned by jdbc"), "returning");
          check(!r.next(), "one row returned");
        }
      }
      try (PreparedStatement p =
               c.prepareStatement("DELETE FROM salesforce.account WHERE account_number = ?")) {
        p.setString(1, tag + "-batch-5");
        check(p.executeUpdate() == 1, "delete count");
      }

      // RETURNING of typed columns from a statement run several times: once it is prepared on
      // the server the driver asks for binary results (int4, numeric, date, timestamptz).
      try (PreparedStatement p = c.prepareStatement(
               "UPDATE salesforce.account SET number_of_employees = ?, customer_since__c = ?"
               + " WHERE id = ? RETURNING number_of_employees, annual_revenue,"
               + " customer_since__c, _synced_at")) {
        for (int i = 1; i <= 4; i++) {
          p.setInt(1, 200 + i);
          p.setDate(2, java.sql.Date.valueOf("2020-01-0" + i));
          p.setString(3, key);
          try (ResultSet r = p.executeQuery()) {
            check(r.next(), "returning row " + i);
            check(r.getInt(1) == 200 + i, "returned int " + r.getInt(1));
            check(r.getBigDecimal(2).compareTo(new BigDecimal("2500000")) == 0,
                "returned numeric " + r.getBigDecimal(2));
            check(r.getDate(3).toString().equals("2020-01-0" + i), "returned date " + r.getDate(3));
            check(r.getTimestamp(4) != null, "returned timestamptz");
          }
        }
      }

      // A write Salesforce rejects: the SQLState of its error, then the connection goes on.
      c.setAutoCommit(false);
      try (PreparedStatement p =
               c.prepareStatement("INSERT INTO salesforce.contact (first_name) VALUES (?)")) {
        p.setString(1, tag + "-rejected");
        p.executeUpdate();
        check(false, "expected an SQLException");
      } catch (SQLException e) {
        check("23502".equals(e.getSQLState()), "sqlstate " + e.getSQLState());
        check(e.getMessage().contains("Required fields are missing"), e.getMessage());
        System.out.println("rejected=" + e.getSQLState());
      }
      c.rollback();
      // In a transaction the proxy warns that the write is in Salesforce at once.
      try (PreparedStatement p = c.prepareStatement(
               "UPDATE salesforce.account SET number_of_employees = ? WHERE id = ?")) {
        p.setInt(1, 103);
        p.setString(2, key);
        check(p.executeUpdate() == 1, "update in a transaction");
        check(p.getWarnings() != null, "a warning about the transaction");
        System.out.println("warning=" + p.getWarnings().getMessage());
      }
      try (PreparedStatement p =
               c.prepareStatement("UPDATE salesforce.account SET description = ? WHERE id = ?")) {
        p.setString(1, "after rollback");
        p.setString(2, key);
        check(p.executeUpdate() == 1, "update after rollback");
      }
      c.commit();
    }
    // Batched inserts rewritten by the driver into one multi-row INSERT, with generated keys.
    props.setProperty("reWriteBatchedInserts", "true");
    try (Connection c = DriverManager.getConnection(url, props);
         PreparedStatement p = c.prepareStatement(
             "INSERT INTO salesforce.account (name, account_number) VALUES (?, ?)",
             new String[] {"id", "account_number"})) {
      for (int i = 1; i <= 4; i++) {
        p.setString(1, tag + " rewritten " + i);
        p.setString(2, tag + "-rewritten-" + i);
        p.addBatch();
      }
      int[] counts = p.executeBatch();
      int total = 0;
      for (int n : counts) total += n == Statement.SUCCESS_NO_INFO ? 1 : n;
      check(total == 4, "rewritten batch total " + total);
      int keys = 0;
      try (ResultSet r = p.getGeneratedKeys()) {
        while (r.next()) {
          check(r.getString(1).length() == 18, "rewritten key " + r.getString(1));
          check(r.getString(2).startsWith(tag + "-rewritten-"), "rewritten number");
          keys++;
        }
      }
      check(keys == 4, "rewritten keys " + keys);
    }
    System.out.println("jdbc ok");
  }
}
