package dev.tandem.sim.core;

import java.util.SplittableRandom;

/**
 * Deterministic, realistic test data: the same seed gives the same names, addresses and numbers, including
 * non-ASCII text, so a seeded simulator is reproducible and exercises encodings.
 */
public final class SeedNames {

  private static final String[] FIRST = {"Anna", "Jürgen", "Søren", "Émilie", "José", "Zoë", "Łukasz", "Björn",
      "Maria", "John", "Chloé", "Mateus", "Ingrid", "Ömer", "Agnieszka", "Kenji", "Fatima", "Lars", "Nuno", "Eleni"};
  private static final String[] LAST = {"Müller", "Åkesson", "Novák", "García", "O'Brien", "Smith", "Dubois",
      "Kowalski", "Jensen", "Rossi", "Papadopoulos", "Nørgaard", "Silva", "Schäfer", "Yılmaz", "Tanaka", "Virtanen",
      "Costa", "Horváth", "Lindqvist"};
  private static final String[] COMPANY_WORDS = {"Nordic", "Alpine", "Coho", "Adatum", "Fabrikam", "Contoso",
      "Tailspin", "Litware", "Wingtip", "Proseware", "Lucerne", "Fourth Coffee", "Blue Yonder", "Ærø", "Zürich",
      "São Paulo", "Ζήτα", "Kraków", "Dvořák", "Ångström"};
  private static final String[] COMPANY_FORMS = {"GmbH", "AB", "Ltd.", "A/S", "S.A.", "Inc.", "Sp. z o.o.",
      "s.r.o.", "Oy", "B.V.", "Kft.", "& Co."};
  private static final String[] CITIES = {"München", "Göteborg", "Praha", "Sevilla", "Dublin", "London", "Lyon",
      "Łódź", "Aarhus", "Milano", "Αθήνα", "København", "Porto", "Düsseldorf", "İstanbul", "Tōkyō", "Tampere",
      "Lisboa", "Győr", "Malmö"};
  private static final String[] COUNTRIES = {"DE", "SE", "CZ", "ES", "IE", "GB", "FR", "PL", "DK", "IT", "GR", "DK",
      "PT", "DE", "TR", "JP", "FI", "PT", "HU", "SE"};
  private static final String[] STREETS = {"Hauptstraße", "Storgatan", "Václavské náměstí", "Calle Mayor",
      "O'Connell Street", "High Street", "Rue de la République", "ulica Piotrkowska", "Strøget", "Via Roma",
      "Odos Ermou", "Nyhavn", "Rua Augusta", "Königsallee", "İstiklal Caddesi", "Ginza-dōri", "Hämeenkatu",
      "Avenida da Liberdade", "Baross tér", "Södergatan"};

  private final SplittableRandom random;

  /** @param seed the seed */
  public SeedNames(long seed) {
    this.random = new SplittableRandom(seed);
  }

  private String pick(String[] a) {
    return a[random.nextInt(a.length)];
  }

  /** @return a first name */
  public String firstName() {
    return pick(FIRST);
  }

  /** @return a last name */
  public String lastName() {
    return pick(LAST);
  }

  /**
   * @param n a running number, so names are distinct
   * @return a company name
   */
  public String company(int n) {
    return pick(COMPANY_WORDS) + " " + pick(LAST) + " " + pick(COMPANY_FORMS) + " " + n;
  }

  /** @return index into the city and country lists */
  public int place() {
    return random.nextInt(CITIES.length);
  }

  /**
   * @param place from {@link #place()}
   * @return the city
   */
  public String city(int place) {
    return CITIES[place];
  }

  /**
   * @param place from {@link #place()}
   * @return the country code
   */
  public String country(int place) {
    return COUNTRIES[place];
  }

  /** @return a street address */
  public String street() {
    return pick(STREETS) + " " + (1 + random.nextInt(240));
  }

  /** @return a post code */
  public String postCode() {
    return String.valueOf(10000 + random.nextInt(89999));
  }

  /** @return a phone number */
  public String phone() {
    return "+" + (30 + random.nextInt(60)) + " " + (100 + random.nextInt(900)) + " " + (100000 + random.nextInt(899999));
  }

  /**
   * @param first first name
   * @param last last name
   * @param domain mail domain
   * @return an ASCII e-mail address
   */
  public String email(String first, String last, String domain) {
    String local = java.text.Normalizer.normalize((first + "." + last).toLowerCase(java.util.Locale.ROOT),
        java.text.Normalizer.Form.NFD).replaceAll("[^a-z0-9.]", "");
    return local + "@" + domain;
  }

  /**
   * @param bound exclusive bound
   * @return a number below it
   */
  public int nextInt(int bound) {
    return random.nextInt(bound);
  }

  /**
   * @param cents maximum in cents
   * @return an amount with two decimals
   */
  public double amount(int cents) {
    return Math.round(random.nextInt(cents)) / 100.0;
  }

  /**
   * @param s a text
   * @param max the field's length
   * @return the text cut to the field's length
   */
  public static String fit(String s, int max) {
    return s.length() <= max ? s : s.substring(0, max);
  }
}
