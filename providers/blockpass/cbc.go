package blockpass

import (
	"crypto/aes"
	"crypto/cipher"
	"errors"
)

// errBadPadding is returned when AES-CBC plaintext does not end in valid
// PKCS#7 padding: almost always a wrong key or IV.
var errBadPadding = errors.New("bad PKCS#7 padding (wrong key or corrupt data)")

// decryptCBC decrypts AES-CBC ciphertext and strips PKCS#7 padding, the
// OpenSSL `enc -aes-256-cbc` and WebCrypto AES-CBC defaults.
func decryptCBC(key, iv, ciphertext []byte) ([]byte, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	if len(iv) != aes.BlockSize {
		return nil, errors.New("IV is not 16 bytes")
	}
	if len(ciphertext) == 0 || len(ciphertext)%aes.BlockSize != 0 {
		return nil, errors.New("ciphertext is not a whole number of AES blocks")
	}
	plain := make([]byte, len(ciphertext))
	cipher.NewCBCDecrypter(block, iv).CryptBlocks(plain, ciphertext)
	n := int(plain[len(plain)-1])
	if n == 0 || n > aes.BlockSize || n > len(plain) {
		return nil, errBadPadding
	}
	for _, b := range plain[len(plain)-n:] {
		if int(b) != n {
			return nil, errBadPadding
		}
	}
	return plain[:len(plain)-n], nil
}
