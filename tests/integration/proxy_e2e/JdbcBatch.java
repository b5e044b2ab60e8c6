// A batch of writes through sfbridge-proxy with pgjdbc's executeBatch, autocommit on: five
// Accounts (AccountNumber TAG-1 .. TAG-5), the third without a Name when BAD is 1.
//
// Usage: java -cp .:postgresql.jar JdbcBatch URL USER TAG BAD
// Prints "error=<SQLSTATE>" when the batch failed (else "error=none"), then "rows=<n>": the
// batch's rows the client reads back through the proxy.

import java.sql.BatchUpdateException;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.Properties;

public class JdbcBatch {
  public static void main(String[] args) throws Exception {
    String url = args[0], tag = args[2];
    boolean bad = args[3].equals("1");
    Properties props = new Properties();
    props.setProperty("user", args[1]);
    try (Connection c = DriverManager.getConnection(url, props)) {
      String error = "none";
      try (PreparedStatement p = c.prepareStatement(
               "INSERT INTO salesforce.account (name, account_number) VALUES (?, ?)")) {
        for (int i = 1; i <= 5; i++) {
          p.setString(1, bad && i == 3 ? null : tag + " batch " + i);
          p.setString(2, tag + "-" + i);
          p.addBatch();
        }
        p.executeBatch();
      } catch (BatchUpdateException e) {
        SQLException cause = e.getNextException() != null ? e.getNextException() : e;
        error = cause.getSQLState();
      }
      System.out.println("error=" + error);
      try (PreparedStatement p = c.prepareStatement(
               "SELECT count(*) FROM salesforce.account WHERE account_number LIKE ?")) {
        p.setString(1, tag + "-%");
        try (ResultSet r = p.executeQuery()) {
          r.next();
          System.out.println("rows=" + r.getLong(1));
        }
      }
    }
  }
}
