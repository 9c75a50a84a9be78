# Onramp: one binary, several roles (portal, gateway, worker), chosen by the container command.
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o /out/onramp ./cmd/onramp

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/onramp /usr/local/bin/onramp
USER nonroot
EXPOSE 4000 4001 4002
ENTRYPOINT ["/usr/local/bin/onramp"]
CMD ["help"]
