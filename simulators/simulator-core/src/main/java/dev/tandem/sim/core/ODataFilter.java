package dev.tandem.sim.core;

import java.math.BigDecimal;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * An OData v4 {@code $filter}, parsed and evaluated against rows: comparisons (eq ne gt ge lt le), and, or, not,
 * parentheses, contains / startswith / endswith, string literals with {@code ''} escapes, numbers, true, false,
 * null, GUIDs and unquoted ISO date-times. The parsed tree is exposed so a protocol can refuse what its server
 * refuses (the ERP rejects {@code or} across different fields). The OData 4.01 {@code in} operator
 * ({@code No in ('A','B')}) is parsed only where the server accepts it ({@link #parse(String, boolean, boolean)}),
 * as the {@code or} of one {@code eq} per value, so it is evaluated, indexed and refused exactly as that {@code or}.
 */
public final class ODataFilter {

  /** A node of the parsed filter. */
  public sealed interface Node permits Or, And, Not, Compare, Function {
    /** @return the fields this node reads */
    Set<String> fields();
  }

  /** {@code a or b}. */
  public record Or(Node left, Node right) implements Node {
    @Override
    public Set<String> fields() {
      Set<String> s = new HashSet<>(left.fields());
      s.addAll(right.fields());
      return s;
    }
  }

  /** {@code a and b}. */
  public record And(Node left, Node right) implements Node {
    @Override
    public Set<String> fields() {
      Set<String> s = new HashSet<>(left.fields());
      s.addAll(right.fields());
      return s;
    }
  }

  /** {@code not a}. */
  public record Not(Node inner) implements Node {
    @Override
    public Set<String> fields() {
      return inner.fields();
    }
  }

  /** {@code field op literal} (either side may be the field). */
  public record Compare(String field, String op, Object literal, boolean fieldOnLeft) implements Node {
    @Override
    public Set<String> fields() {
      return Set.of(field);
    }
  }

  /** {@code contains(field,'x')}, {@code startswith}, {@code endswith}. */
  public record Function(String name, String field, String argument) implements Node {
    @Override
    public Set<String> fields() {
      return Set.of(field);
    }
  }

  private static final Pattern GUID = Pattern.compile("[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}");
  private static final Pattern DATETIME = Pattern.compile("\\d{4}-\\d{2}-\\d{2}(T[0-9:.]+(Z|[+-]\\d{2}:\\d{2})?)?");
  private static final Pattern NUMBER = Pattern.compile("-?\\d+(\\.\\d+)?([eE][-+]?\\d+)?[mMdDfFlL]?");

  private final Node root;
  private final boolean caseInsensitive;

  private ODataFilter(Node root, boolean caseInsensitive) {
    this.root = root;
    this.caseInsensitive = caseInsensitive;
  }

  /**
   * @param text the {@code $filter} value
   * @param caseInsensitive compare text without regard to case (Dataverse does; Business Central does not)
   * @return the filter
   * @throws ODataQueryException naming the position and what was expected
   */
  public static ODataFilter parse(String text, boolean caseInsensitive) {
    return parse(text, caseInsensitive, false);
  }

  /**
   * @param text the {@code $filter} value
   * @param caseInsensitive compare text without regard to case (Dataverse does; Business Central does not)
   * @param inOperator whether {@code field in (v1, v2, …)} is accepted (Business Central online since 2024 wave 1)
   * @return the filter
   * @throws ODataQueryException naming the position and what was expected
   */
  public static ODataFilter parse(String text, boolean caseInsensitive, boolean inOperator) {
    Parser p = new Parser(text, inOperator);
    Node n = p.or();
    if (p.peek() != null) {
      throw new ODataQueryException("unexpected '" + p.peek() + "' at position " + p.pos + " in $filter: " + text);
    }
    return new ODataFilter(n, caseInsensitive);
  }

  /** @return the parsed tree */
  public Node root() {
    return root;
  }

  /**
   * @param row a row
   * @return whether the row passes
   */
  public boolean test(Map<String, Object> row) {
    return eval(root, row);
  }

  private boolean eval(Node n, Map<String, Object> row) {
    if (n instanceof Or o) {
      return eval(o.left(), row) || eval(o.right(), row);
    }
    if (n instanceof And a) {
      return eval(a.left(), row) && eval(a.right(), row);
    }
    if (n instanceof Not x) {
      return !eval(x.inner(), row);
    }
    if (n instanceof Function f) {
      Object v = row.get(f.field());
      if (v == null) {
        return false;
      }
      String s = String.valueOf(v);
      String arg = f.argument();
      if (caseInsensitive) {
        s = s.toLowerCase(Locale.ROOT);
        arg = arg.toLowerCase(Locale.ROOT);
      }
      return switch (f.name()) {
        case "contains" -> s.contains(arg);
        case "startswith" -> s.startsWith(arg);
        case "endswith" -> s.endsWith(arg);
        default -> throw new IllegalStateException(f.name());
      };
    }
    Compare c = (Compare) n;
    Object v = row.get(c.field());
    int cmp;
    if (c.literal() == null || v == null) {
      boolean bothNull = c.literal() == null && v == null;
      return switch (c.op()) {
        case "eq" -> bothNull;
        case "ne" -> !bothNull;
        default -> false;
      };
    }
    cmp = compare(v, c.literal());
    if (!c.fieldOnLeft()) {
      cmp = -cmp;
    }
    return switch (c.op()) {
      case "eq" -> cmp == 0;
      case "ne" -> cmp != 0;
      case "gt" -> cmp > 0;
      case "ge" -> cmp >= 0;
      case "lt" -> cmp < 0;
      case "le" -> cmp <= 0;
      default -> throw new IllegalStateException(c.op());
    };
  }

  private int compare(Object value, Object literal) {
    if (literal instanceof BigDecimal d) {
      BigDecimal v = value instanceof Number num ? new BigDecimal(num.toString())
          : new BigDecimal(String.valueOf(value));
      return v.compareTo(d);
    }
    if (literal instanceof Instant t) {
      return toInstant(value).compareTo(t);
    }
    if (literal instanceof Boolean b) {
      return Boolean.compare(Boolean.parseBoolean(String.valueOf(value)), b);
    }
    String a = String.valueOf(value);
    String b = String.valueOf(literal);
    return caseInsensitive ? a.compareToIgnoreCase(b) : a.compareTo(b);
  }

  private static Instant toInstant(Object v) {
    if (v instanceof Instant i) {
      return i;
    }
    String s = String.valueOf(v);
    try {
      return OffsetDateTime.parse(s).toInstant();
    } catch (DateTimeParseException e) {
      return Instant.parse(s.length() == 10 ? s + "T00:00:00Z" : s);
    }
  }

  /** Recursive descent over a small tokenizer. */
  private static final class Parser {
    private final String text;
    private final List<String> tokens = new ArrayList<>();
    private final List<Integer> positions = new ArrayList<>();
    private final boolean inOperator;
    private int i;
    int pos;

    Parser(String text, boolean inOperator) {
      this.text = text;
      this.inOperator = inOperator;
      tokenize();
    }

    private void tokenize() {
      int p = 0;
      while (p < text.length()) {
        char c = text.charAt(p);
        if (Character.isWhitespace(c)) {
          p++;
        } else if (c == '(' || c == ')' || c == ',') {
          positions.add(p);
          tokens.add(String.valueOf(c));
          p++;
        } else if (c == '\'') {
          int start = p;
          StringBuilder sb = new StringBuilder("'");
          p++;
          while (true) {
            if (p >= text.length()) {
              throw new ODataQueryException("unterminated string literal at position " + start + " in $filter: " + text);
            }
            char ch = text.charAt(p);
            if (ch == '\'') {
              if (p + 1 < text.length() && text.charAt(p + 1) == '\'') {
                sb.append('\'');
                p += 2;
                continue;
              }
              p++;
              break;
            }
            sb.append(ch);
            p++;
          }
          positions.add(start);
          tokens.add(sb.toString());
        } else {
          int start = p;
          while (p < text.length() && !Character.isWhitespace(text.charAt(p)) && "(),'".indexOf(text.charAt(p)) < 0) {
            p++;
          }
          positions.add(start);
          tokens.add(text.substring(start, p));
        }
      }
    }

    String peek() {
      return i < tokens.size() ? tokens.get(i) : null;
    }

    String next() {
      if (i >= tokens.size()) {
        throw new ODataQueryException("$filter ends too early: " + text);
      }
      pos = positions.get(i);
      return tokens.get(i++);
    }

    void expect(String t) {
      String n = next();
      if (!n.equals(t)) {
        throw new ODataQueryException("expected '" + t + "' but found '" + n + "' at position " + pos
            + " in $filter: " + text);
      }
    }

    Node or() {
      Node left = and();
      while ("or".equalsIgnoreCase(peek())) {
        next();
        left = new Or(left, and());
      }
      return left;
    }

    Node and() {
      Node left = not();
      while ("and".equalsIgnoreCase(peek())) {
        next();
        left = new And(left, not());
      }
      return left;
    }

    Node not() {
      if ("not".equalsIgnoreCase(peek())) {
        next();
        return new Not(not());
      }
      return primary();
    }

    Node primary() {
      String t = next();
      if (t.equals("(")) {
        Node n = or();
        expect(")");
        return n;
      }
      String lower = t.toLowerCase(Locale.ROOT);
      if ((lower.equals("contains") || lower.equals("startswith") || lower.equals("endswith")) && "(".equals(peek())) {
        next();
        String field = next();
        expect(",");
        Object arg = literal(next());
        expect(")");
        if (!(arg instanceof String s)) {
          throw new ODataQueryException(lower + " needs a string literal in $filter: " + text);
        }
        Node f = new Function(lower, field, s);
        // contains(x,'a') eq true
        if (peek() != null && isOp(peek())) {
          String op = next();
          Object b = literal(next());
          boolean wantTrue = Boolean.TRUE.equals(b);
          boolean positive = op.equalsIgnoreCase("eq") == wantTrue;
          return positive ? f : new Not(f);
        }
        return f;
      }
      if (inOperator && "in".equalsIgnoreCase(peek()) && isField(t)) {
        next();
        return in(t);
      }
      String op = next();
      if (!isOp(op)) {
        throw new ODataQueryException("expected a comparison (eq, ne, gt, ge, lt, le) after '" + t + "' but found '"
            + op + "' at position " + pos + " in $filter: " + text);
      }
      String right = next();
      boolean leftIsField = isField(t);
      if (leftIsField) {
        return new Compare(t, op.toLowerCase(Locale.ROOT), literal(right), true);
      }
      if (!isField(right)) {
        throw new ODataQueryException("a comparison needs a field on one side: '" + t + " " + op + " " + right
            + "' in $filter: " + text);
      }
      return new Compare(right, op.toLowerCase(Locale.ROOT), literal(t), false);
    }

    /** {@code field in (v1, v2, …)}: the {@code or} of one {@code eq} per value, in the order written. */
    private Node in(String field) {
      expect("(");
      Node n = null;
      while (true) {
        String v = next();
        if (v.equals(")")) {
          throw new ODataQueryException("'in' needs at least one value at position " + pos + " in $filter: " + text);
        }
        Node eq = new Compare(field, "eq", literal(v), true);
        n = n == null ? eq : new Or(n, eq);
        String sep = next();
        if (sep.equals(")")) {
          return n;
        }
        if (!sep.equals(",")) {
          throw new ODataQueryException("expected ',' or ')' but found '" + sep + "' at position " + pos
              + " in $filter: " + text);
        }
      }
    }

    private static boolean isOp(String s) {
      return switch (s.toLowerCase(Locale.ROOT)) {
        case "eq", "ne", "gt", "ge", "lt", "le" -> true;
        default -> false;
      };
    }

    private static boolean isField(String s) {
      return !s.startsWith("'") && !NUMBER.matcher(s).matches() && !GUID.matcher(s).matches()
          && !DATETIME.matcher(s).matches() && !s.equals("true") && !s.equals("false") && !s.equals("null");
    }

    private Object literal(String s) {
      if (s.startsWith("'")) {
        return s.substring(1);
      }
      if (s.equals("null")) {
        return null;
      }
      if (s.equals("true") || s.equals("false")) {
        return Boolean.valueOf(s);
      }
      if (GUID.matcher(s).matches()) {
        return s.toLowerCase(Locale.ROOT);
      }
      if (DATETIME.matcher(s).matches() && s.contains("-")) {
        try {
          return s.length() == 10 ? Instant.parse(s + "T00:00:00Z") : OffsetDateTime.parse(s).toInstant();
        } catch (DateTimeParseException e) {
          throw new ODataQueryException("'" + s + "' is not a valid date-time in $filter: " + text);
        }
      }
      if (NUMBER.matcher(s).matches()) {
        return new BigDecimal(s.replaceAll("[mMdDfFlL]$", ""));
      }
      if (s.startsWith("guid'") || s.startsWith("datetime'")) {
        throw new ODataQueryException("OData v2 literal " + s + " is not valid in v4 $filter: " + text);
      }
      throw new ODataQueryException("'" + s + "' is not a literal at position " + pos + " in $filter: " + text);
    }
  }
}
