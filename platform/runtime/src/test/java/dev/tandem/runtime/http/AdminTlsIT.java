package dev.tandem.runtime.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.tandem.runtime.TandemRuntime;
import dev.tandem.runtime.TestDatabase;
import dev.tandem.runtime.TestRuntimes;
import dev.tandem.runtime.config.TandemConfig;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.cert.Certificate;
import java.util.Base64;
import java.util.HashMap;
import java.util.Map;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The admin API over HTTPS with a key and certificate from PEM files (a self-signed pair made here with keytool). */
class AdminTlsIT {

  @TempDir
  Path dir;

  @Test
  void theApiSpeaksHttpsWithThePemKeyAndCertificate() throws Exception {
    Path p12 = dir.resolve("admin.p12");
    Process keytool = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "keytool").toString(),
        "-genkeypair", "-alias", "admin", "-keyalg", "RSA", "-keysize", "2048", "-validity", "2",
        "-dname", "CN=localhost", "-ext", "SAN=dns:localhost,ip:127.0.0.1", "-storetype", "PKCS12",
        "-keystore", p12.toString(), "-storepass", "changeit", "-keypass", "changeit")
        .redirectErrorStream(true).start();
    String out = new String(keytool.getInputStream().readAllBytes());
    assertEquals(0, keytool.waitFor(), out);
    KeyStore ks = KeyStore.getInstance("PKCS12");
    try (InputStream in = Files.newInputStream(p12)) {
      ks.load(in, "changeit".toCharArray());
    }
    PrivateKey key = (PrivateKey) ks.getKey("admin", "changeit".toCharArray());
    Certificate cert = ks.getCertificate("admin");
    Path keyPem = dir.resolve("admin.key");
    Path certPem = dir.resolve("admin.crt");
    Files.writeString(keyPem, pem("PRIVATE KEY", key.getEncoded()));
    Files.writeString(certPem, pem("CERTIFICATE", cert.getEncoded()));

    try (TestDatabase db = TestDatabase.fresh()) {
      Map<String, String> env = new HashMap<>();
      env.put(TandemConfig.ENV_DB_URL, TestDatabase.URL);
      env.put(TandemConfig.ENV_DB_SCHEMA, db.schema());
      env.put(TandemConfig.ENV_HTTP_PORT, "0");
      env.put(TandemConfig.ENV_HTTP_HOST, "127.0.0.1");
      env.put(TandemConfig.ENV_ADMIN_TOKEN, TestRuntimes.TOKEN);
      env.put(TandemConfig.ENV_PLUGINS_DIR, dir.resolve("plugins").toString());
      env.put(TandemConfig.ENV_HTTP_TLS_CERT, certPem.toString());
      env.put(TandemConfig.ENV_HTTP_TLS_KEY, keyPem.toString());
      TandemConfig cfg = TandemConfig.load(null, env).withDatabase(db.settings());
      TandemRuntime rt = TestRuntimes.start(cfg);
      try {
        KeyStore trust = KeyStore.getInstance("PKCS12");
        trust.load(null, null);
        trust.setCertificateEntry("admin", cert);
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(trust);
        SSLContext ssl = SSLContext.getInstance("TLS");
        ssl.init(null, tmf.getTrustManagers(), null);
        HttpClient https = HttpClient.newBuilder().sslContext(ssl).build();
        HttpResponse<String> r = https.send(HttpRequest.newBuilder(URI.create("https://localhost:" + rt.httpPort()
            + "/api/v1/plugins")).header("Authorization", "Bearer " + TestRuntimes.TOKEN).build(),
            HttpResponse.BodyHandlers.ofString());
        assertEquals(200, r.statusCode(), r.body());
        // plain HTTP to the TLS port gets no answer
        assertThrows(java.io.IOException.class, () -> HttpClient.newHttpClient().send(HttpRequest.newBuilder(
            URI.create("http://localhost:" + rt.httpPort() + "/health/live")).timeout(java.time.Duration.ofSeconds(10))
            .build(), HttpResponse.BodyHandlers.ofString()));
      } finally {
        TestRuntimes.stop(rt);
      }
    }
  }

  private static String pem(String type, byte[] der) {
    return "-----BEGIN " + type + "-----\n" + Base64.getMimeEncoder(64, "\n".getBytes()).encodeToString(der)
        + "\n-----END " + type + "-----\n";
  }
}
