package blockpass

import (
	"crypto/aes"
	"crypto/cipher"
)

// encryptCBC pads with PKCS#7 and encrypts with AES-CBC: the export and
// response-encryption producers' side, for tests.
func encryptCBC(key, iv, plain []byte) []byte {
	block, err := aes.NewCipher(key)
	if err != nil {
		panic(err)
	}
	n := aes.BlockSize - len(plain)%aes.BlockSize
	padded := make([]byte, len(plain)+n)
	copy(padded, plain)
	for i := len(plain); i < len(padded); i++ {
		padded[i] = byte(n)
	}
	out := make([]byte, len(padded))
	cipher.NewCBCEncrypter(block, iv).CryptBlocks(out, padded)
	return out
}
