package dev.tandem.runtime.connectors;

import dev.tandem.api.Stage;
import dev.tandem.api.TandemException;
import java.net.URI;
import java.util.Locale;

/**
 * The origin (scheme, host, port) of a configured endpoint. Links an endpoint hands out ({@code @odata.nextLink},
 * {@code @odata.deltaLink}, stored or fresh) are followed with the endpoint's credentials only when they point at
 * this origin: a link to any other host is refused before a request is made, so a tampered or misconfigured link
 * cannot collect the bearer token or the web-service key.
 */
public final class EndpointOrigin {

  private final String endpoint;
  private final String origin;

  /**
   * @param endpoint "CRM" or "ERP", for messages
   * @param configuredUrl the configured endpoint URL
   */
  public EndpointOrigin(String endpoint, String configuredUrl) {
    this.endpoint = endpoint;
    this.origin = of(configuredUrl);
  }

  /**
   * @param url an absolute URL
   * @return {@code scheme://host:port}, lower case, with the scheme's default port filled in; or the text itself
   *     when it is no absolute http(s) URL
   */
  public static String of(String url) {
    try {
      URI u = URI.create(url);
      String scheme = u.getScheme() == null ? "" : u.getScheme().toLowerCase(Locale.ROOT);
      if (u.getHost() == null || !(scheme.equals("http") || scheme.equals("https"))) {
        return url;
      }
      int port = u.getPort() != -1 ? u.getPort() : scheme.equals("https") ? 443 : 80;
      return scheme + "://" + u.getHost().toLowerCase(Locale.ROOT) + ":" + port;
    } catch (IllegalArgumentException notAUri) {
      return url;
    }
  }

  /**
   * @param url the URL about to be requested with credentials
   * @param stage the stage, for the failure
   * @return null when it is on the endpoint's origin, else the permanent failure to report (naming the link's
   *     origin)
   */
  public TandemException refuse(String url, Stage stage) {
    String other = of(url);
    if (origin.equals(other)) {
      return null;
    }
    return TandemException.permanent(stage, endpoint + " link points at " + other + ", not at the configured "
        + endpoint + " endpoint " + origin + ": Tandem does not send the " + endpoint + " credentials there. Reset "
        + "the stored link (DELETE /api/v1/mappings/{name}/watermarks) if it came from an earlier configuration");
  }
}
