package dev.tandem.runtime.connection;

import dev.tandem.runtime.config.ConfigDef;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.HexFormat;
import java.util.Map;
import javax.crypto.Cipher;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;

/**
 * Seals the connection's secrets for PostgreSQL with AES-256-GCM: a fresh 96-bit nonce per secret, a 128-bit tag,
 * and the secret's name as associated data (a sealed value moved to another secret's row does not open). The key
 * is 32 bytes, base64, from {@value #ENV_KEY} or the file named by {@value #ENV_KEY_FILE}; its id (a hash prefix)
 * is stored with each secret so a node with another key says so instead of failing obscurely.
 */
public final class SecretCipher {

  /** Environment variable: the key, 32 bytes in base64. */
  public static final String ENV_KEY = ConfigDef.ENV_SECRET_KEY;
  /** Environment variable: a file holding the key in base64 (instead of {@value #ENV_KEY}). */
  public static final String ENV_KEY_FILE = ConfigDef.ENV_SECRET_KEY_FILE;
  /**
   * Environment variable: the key before a rotation, which secrets still sealed with it open with (the key in
   * {@value #ENV_KEY} seals every new one), so nodes keep working while the secrets are re-sealed.
   */
  public static final String ENV_PREVIOUS_KEY = ConfigDef.ENV_SECRET_KEY_PREVIOUS;
  /** Environment variable: a file holding the previous key (instead of {@value #ENV_PREVIOUS_KEY}). */
  public static final String ENV_PREVIOUS_KEY_FILE = ConfigDef.ENV_SECRET_KEY_PREVIOUS_FILE;

  private static final int NONCE_BYTES = 12;
  private static final int TAG_BITS = 128;
  private static final SecureRandom RANDOM = new SecureRandom();

  private final SecretKeySpec key;
  private final String keyId;
  private SecretCipher previous;

  /**
   * @param raw the 32-byte key
   */
  public SecretCipher(byte[] raw) {
    if (raw.length != 32) {
      throw new IllegalArgumentException("the secret key must be 32 bytes (256 bits), got " + raw.length
          + ": generate one with `tandem secrets generate-key`");
    }
    this.key = new SecretKeySpec(raw.clone(), "AES");
    try {
      byte[] h = MessageDigest.getInstance("SHA-256").digest(raw);
      this.keyId = HexFormat.of().formatHex(h, 0, 6);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }

  /**
   * @param base64 the key in base64
   * @param where where it came from, for the message
   * @return the cipher
   */
  public static SecretCipher ofBase64(String base64, String where) {
    byte[] raw;
    try {
      raw = Base64.getDecoder().decode(base64.trim());
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(where + " is not base64 (32 random bytes, e.g. from "
          + "`tandem secrets generate-key`)");
    }
    try {
      return new SecretCipher(raw);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(where + ": " + e.getMessage());
    }
  }

  /**
   * @param env the environment
   * @return the cipher of {@value #ENV_KEY} or {@value #ENV_KEY_FILE}, or null when neither is set
   * @throws IllegalArgumentException when the key is unusable (the message never holds the key)
   */
  public static SecretCipher fromEnvironment(Map<String, String> env) {
    SecretCipher current = fromEnvironment(env, ENV_KEY, ENV_KEY_FILE);
    SecretCipher before = fromEnvironment(env, ENV_PREVIOUS_KEY, ENV_PREVIOUS_KEY_FILE);
    if (current == null) {
      if (before != null) {
        throw new IllegalArgumentException(ENV_PREVIOUS_KEY + " is set without " + ENV_KEY + ": the previous key "
            + "only opens secrets; set the current key too");
      }
      return null;
    }
    return before == null ? current : current.withPrevious(before);
  }

  private static SecretCipher fromEnvironment(Map<String, String> env, String keyVar, String fileVar) {
    String value = env.get(keyVar);
    if (value != null && !value.isBlank()) {
      return ofBase64(value, keyVar);
    }
    String file = env.get(fileVar);
    if (file != null && !file.isBlank()) {
      return fromFile(Path.of(file), fileVar + " (" + file + ")");
    }
    return null;
  }

  /**
   * @param before the key before a rotation: it opens secrets it sealed, and seals nothing
   * @return this cipher, which now also opens those
   */
  public SecretCipher withPrevious(SecretCipher before) {
    if (!before.keyId.equals(keyId)) {
      this.previous = before;
    }
    return this;
  }

  /**
   * @param sealedWith the id of the key a secret was sealed with
   * @return the cipher that opens it (this one or the previous key), or null when this node has neither
   */
  public SecretCipher forKey(String sealedWith) {
    if (keyId.equals(sealedWith)) {
      return this;
    }
    return previous != null && previous.keyId.equals(sealedWith) ? previous : null;
  }

  /** @return the previous key's id, or null */
  public String previousKeyId() {
    return previous == null ? null : previous.keyId;
  }

  /**
   * @param file a key file (base64)
   * @param where how to name it in a message
   * @return the cipher
   */
  public static SecretCipher fromFile(Path file, String where) {
    try {
      return ofBase64(Files.readString(file, StandardCharsets.US_ASCII), where);
    } catch (IOException e) {
      throw new IllegalArgumentException("cannot read the secret key file " + where + ": " + e.getMessage());
    }
  }

  /** @return a new random key in base64 */
  public static String generateKey() {
    byte[] b = new byte[32];
    RANDOM.nextBytes(b);
    return Base64.getEncoder().encodeToString(b);
  }

  /** @return the key's id: the first 12 hex digits of its SHA-256 (not secret) */
  public String keyId() {
    return keyId;
  }

  /**
   * @param name the secret's name (associated data)
   * @param plain its value
   * @return nonce, ciphertext and tag
   */
  public byte[] seal(String name, String plain) {
    byte[] nonce = new byte[NONCE_BYTES];
    RANDOM.nextBytes(nonce);
    try {
      Cipher c = Cipher.getInstance("AES/GCM/NoPadding");
      c.init(Cipher.ENCRYPT_MODE, key, new GCMParameterSpec(TAG_BITS, nonce));
      c.updateAAD(name.getBytes(StandardCharsets.UTF_8));
      byte[] ct = c.doFinal(plain.getBytes(StandardCharsets.UTF_8));
      return ByteBuffer.allocate(NONCE_BYTES + ct.length).put(nonce).put(ct).array();
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("sealing secret " + name + " failed: " + e.getClass().getSimpleName());
    }
  }

  /**
   * @param name the secret's name
   * @param sealed what {@link #seal} gave
   * @return the value
   * @throws IllegalStateException when the key is not the one that sealed it or the value was altered
   */
  public String open(String name, byte[] sealed) {
    try {
      Cipher c = Cipher.getInstance("AES/GCM/NoPadding");
      c.init(Cipher.DECRYPT_MODE, key, new GCMParameterSpec(TAG_BITS, sealed, 0, NONCE_BYTES));
      c.updateAAD(name.getBytes(StandardCharsets.UTF_8));
      return new String(c.doFinal(sealed, NONCE_BYTES, sealed.length - NONCE_BYTES), StandardCharsets.UTF_8);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("secret " + name + " does not open with key " + keyId
          + " (another key sealed it, or the stored value was altered)");
    }
  }

  /** The key never shows. */
  @Override
  public String toString() {
    return "SecretCipher[keyId=" + keyId + (previous == null ? "" : ", previous=" + previous.keyId) + "]";
  }
}
