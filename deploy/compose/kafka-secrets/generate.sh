#!/bin/sh
# Dev-only TLS and SASL material for deploy/compose/sasl-ssl.yml, made with keytool inside the
# apache/kafka image (no tool needed on the host) into the `kafka-secrets` volume, once:
#   ca.crt                 the dev CA (PEM): clients verify the broker with it (KAFKA_SSL_CAFILE)
#   kafka.keystore.p12     the broker's key and certificate (SAN kafka, localhost and
#                          $BOOKSHELF_KAFKA_HOST, the host name clients outside compose use), signed by the CA
#   *_creds                keystore passwords, as the apache/kafka image expects them (random)
#   broker_jaas.conf       SASL/PLAIN users: admin (random password) and $KAFKA_SASL_USERNAME
#   client.properties      admin client settings for the broker's health check
# Delete the volume to start over: docker compose ... down -v
set -eu

: "${KAFKA_SASL_USERNAME:?KAFKA_SASL_USERNAME is not set}"
: "${KAFKA_SASL_PASSWORD:?KAFKA_SASL_PASSWORD is not set}"
dir="${KAFKA_SECRETS_DIR:-/etc/kafka/secrets}"  # the volume; a test passes a folder of its own
cd "$dir"
if [ -s kafka.keystore.p12 ] && [ -s broker_jaas.conf ]; then
    echo "kafka-secrets: already present in $dir"
    exit 0
fi

random() { head -c 24 /dev/urandom | base64 | tr -d '/+=\n'; }
# The names clients verify: kafka (containers), localhost and the advertised host (an IP or a name).
host="${BOOKSHELF_KAFKA_HOST:-localhost}"
case "$host" in
    kafka | localhost) san="dns:kafka,dns:localhost" ;;
    *[!0-9.]*) san="dns:kafka,dns:localhost,dns:$host" ;;
    *) san="dns:kafka,dns:localhost,ip:$host" ;;
esac
store_password="$(random)"
admin_password="$(random)"
keytool="${JAVA_HOME:+$JAVA_HOME/bin/}keytool"
validity=825

"$keytool" -genkeypair -alias ca -dname "CN=Bookshelf dev CA" -keyalg RSA -keysize 3072 \
    -validity "$validity" -ext bc:c -keystore ca.p12 -storetype PKCS12 \
    -storepass "$store_password" -keypass "$store_password"
"$keytool" -exportcert -rfc -alias ca -keystore ca.p12 -storepass "$store_password" -file ca.crt

"$keytool" -genkeypair -alias kafka -dname "CN=kafka" -keyalg RSA -keysize 3072 -validity "$validity" \
    -ext "SAN=$san" -keystore kafka.keystore.p12 -storetype PKCS12 \
    -storepass "$store_password" -keypass "$store_password"
"$keytool" -certreq -alias kafka -keystore kafka.keystore.p12 -storepass "$store_password" -file kafka.csr
"$keytool" -gencert -rfc -alias ca -keystore ca.p12 -storepass "$store_password" -validity "$validity" \
    -infile kafka.csr -outfile kafka.crt \
    -ext "SAN=$san" -ext "KU=digitalSignature,keyEncipherment" -ext "EKU=serverAuth,clientAuth"
"$keytool" -importcert -noprompt -alias ca -file ca.crt -keystore kafka.keystore.p12 -storepass "$store_password"
"$keytool" -importcert -noprompt -alias kafka -file kafka.crt -keystore kafka.keystore.p12 -storepass "$store_password"
rm -f kafka.csr kafka.crt

printf '%s' "$store_password" > keystore_creds
printf '%s' "$store_password" > key_creds

cat > broker_jaas.conf <<JAAS
KafkaServer {
    org.apache.kafka.common.security.plain.PlainLoginModule required
    username="admin"
    password="$admin_password"
    user_admin="$admin_password"
    user_$KAFKA_SASL_USERNAME="$KAFKA_SASL_PASSWORD";
};
JAAS

cat > client.properties <<PROPERTIES
security.protocol=SASL_SSL
sasl.mechanism=PLAIN
sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required username="admin" password="$admin_password";
ssl.truststore.type=PEM
ssl.truststore.location=$dir/ca.crt
PROPERTIES

# Only the broker (this image's user) reads keys and passwords; every client may read the CA.
chmod 600 ca.p12 kafka.keystore.p12 keystore_creds key_creds broker_jaas.conf client.properties
chmod 644 ca.crt
echo "kafka-secrets: created the dev CA, the broker keystore and SASL users admin, $KAFKA_SASL_USERNAME"
