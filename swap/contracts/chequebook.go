// Code generated via abigen V2 - DO NOT EDIT.
// This file is a generated binding and any manual changes will be lost.

package contracts

import (
	"bytes"
	"errors"
	"math/big"

	"github.com/ethereum/go-ethereum/accounts/abi"
	"github.com/ethereum/go-ethereum/accounts/abi/bind/v2"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
)

// Reference imports to suppress errors if they are not otherwise used.
var (
	_ = bytes.Equal
	_ = errors.New
	_ = big.NewInt
	_ = common.Big1
	_ = types.BloomLookup
	_ = abi.ConvertType
)

// ChequebookMetaData contains all meta data concerning the Chequebook contract.
var ChequebookMetaData = bind.MetaData{
	ABI: "[{\"inputs\":[{\"internalType\":\"address\",\"name\":\"issuer_\",\"type\":\"address\"},{\"internalType\":\"uint256\",\"name\":\"weiPerUnit_\",\"type\":\"uint256\"}],\"stateMutability\":\"payable\",\"type\":\"constructor\"},{\"inputs\":[],\"name\":\"BadSignature\",\"type\":\"error\"},{\"inputs\":[{\"internalType\":\"uint256\",\"name\":\"paymentWei\",\"type\":\"uint256\"},{\"internalType\":\"uint256\",\"name\":\"balanceWei\",\"type\":\"uint256\"}],\"name\":\"Bounced\",\"type\":\"error\"},{\"inputs\":[{\"internalType\":\"address\",\"name\":\"signer\",\"type\":\"address\"}],\"name\":\"NotIssuer\",\"type\":\"error\"},{\"inputs\":[{\"internalType\":\"uint256\",\"name\":\"cumulativeUnits\",\"type\":\"uint256\"},{\"internalType\":\"uint256\",\"name\":\"alreadyPaid\",\"type\":\"uint256\"}],\"name\":\"NothingToCash\",\"type\":\"error\"},{\"anonymous\":false,\"inputs\":[{\"indexed\":true,\"internalType\":\"address\",\"name\":\"beneficiary\",\"type\":\"address\"},{\"indexed\":false,\"internalType\":\"uint256\",\"name\":\"cumulativeUnits\",\"type\":\"uint256\"},{\"indexed\":false,\"internalType\":\"uint256\",\"name\":\"paymentWei\",\"type\":\"uint256\"}],\"name\":\"ChequeCashed\",\"type\":\"event\"},{\"inputs\":[{\"internalType\":\"addresspayable\",\"name\":\"beneficiary\",\"type\":\"address\"},{\"internalType\":\"uint256\",\"name\":\"cumulativeUnits\",\"type\":\"uint256\"},{\"internalType\":\"bytes\",\"name\":\"sig\",\"type\":\"bytes\"}],\"name\":\"cashCheque\",\"outputs\":[{\"internalType\":\"uint256\",\"name\":\"paymentWei\",\"type\":\"uint256\"}],\"stateMutability\":\"nonpayable\",\"type\":\"function\"},{\"inputs\":[{\"internalType\":\"address\",\"name\":\"beneficiary\",\"type\":\"address\"},{\"internalType\":\"uint256\",\"name\":\"cumulativeUnits\",\"type\":\"uint256\"}],\"name\":\"chequeDigest\",\"outputs\":[{\"internalType\":\"bytes32\",\"name\":\"\",\"type\":\"bytes32\"}],\"stateMutability\":\"view\",\"type\":\"function\"},{\"inputs\":[],\"name\":\"issuer\",\"outputs\":[{\"internalType\":\"address\",\"name\":\"\",\"type\":\"address\"}],\"stateMutability\":\"view\",\"type\":\"function\"},{\"inputs\":[{\"internalType\":\"address\",\"name\":\"\",\"type\":\"address\"}],\"name\":\"paidOut\",\"outputs\":[{\"internalType\":\"uint256\",\"name\":\"\",\"type\":\"uint256\"}],\"stateMutability\":\"view\",\"type\":\"function\"},{\"inputs\":[],\"name\":\"weiPerUnit\",\"outputs\":[{\"internalType\":\"uint256\",\"name\":\"\",\"type\":\"uint256\"}],\"stateMutability\":\"view\",\"type\":\"function\"},{\"inputs\":[{\"internalType\":\"uint256\",\"name\":\"amountWei\",\"type\":\"uint256\"}],\"name\":\"withdraw\",\"outputs\":[],\"stateMutability\":\"nonpayable\",\"type\":\"function\"},{\"stateMutability\":\"payable\",\"type\":\"receive\"}]",
	ID:  "Chequebook",
	Bin: "0x60c060405260405161089338038061089383398101604081905261002291610038565b6001600160a01b0390911660805260a05261006f565b5f5f60408385031215610049575f5ffd5b82516001600160a01b038116811461005f575f5ffd5b6020939093015192949293505050565b60805160a0516107f06100a35f395f8181607301526104d501525f818160b901528181610188015261043301526107f05ff3fe608060405260043610610057575f3560e01c80630693a3a2146100625780631d143848146100a85780632e1a7d4d146100f3578063408f6aa51461011457806364f297081461013357806381f03fcb14610152575f5ffd5b3661005e57005b5f5ffd5b34801561006d575f5ffd5b506100957f000000000000000000000000000000000000000000000000000000000000000081565b6040519081526020015b60405180910390f35b3480156100b3575f5ffd5b506100db7f000000000000000000000000000000000000000000000000000000000000000081565b6040516001600160a01b03909116815260200161009f565b3480156100fe575f5ffd5b5061011261010d366004610625565b61017d565b005b34801561011f575f5ffd5b5061009561012e366004610653565b610258565b34801561013e575f5ffd5b5061009561014d36600461067d565b610306565b34801561015d575f5ffd5b5061009561016c366004610702565b5f6020819052908152604090205481565b336001600160a01b037f000000000000000000000000000000000000000000000000000000000000000016146101cd57604051631fe937cf60e11b81523360048201526024015b60405180910390fd5b6040515f90339083908381818185875af1925050503d805f811461020c576040519150601f19603f3d011682016040523d82523d5f602084013e610211565b606091505b50509050806102545760405162461bcd60e51b815260206004820152600f60248201526e1d1c985b9cd9995c8819985a5b1959608a1b60448201526064016101c4565b5050565b5f5f4630858560405160200161029f9493929190938452606092831b6bffffffffffffffffffffffff1990811660208601529190921b166034830152604882015260680190565b60408051808303601f1901815282825280516020918201207f19457468657265756d205369676e6564204d6573736167653a0a33320000000082850152603c8085019190915282518085039091018152605c90930190915281519101209150505b92915050565b5f6041821461032857604051635cd5d23360e01b815260040160405180910390fd5b5f6103366020828587610724565b61033f9161074b565b90505f610350604060208688610724565b6103599161074b565b90505f8585604081811061036f5761036f610768565b919091013560f81c9150507f7fffffffffffffffffffffffffffffff5d576e7357a4501ddfe92f46681b20a08211156103bb57604051635cd5d23360e01b815260040160405180910390fd5b5f60016103c88a8a610258565b604080515f8152602081018083529290925260ff851690820152606081018690526080810185905260a0016020604051602081039080840390855afa158015610413573d5f5f3e3d5ffd5b5050604051601f1901519150506001600160a01b038116158061046857507f00000000000000000000000000000000000000000000000000000000000000006001600160a01b0316816001600160a01b031614155b1561049157604051631fe937cf60e11b81526001600160a01b03821660048201526024016101c4565b6001600160a01b0389165f908152602081905260409020548089116104d357604051630759f4b160e41b8152600481018a9052602481018290526044016101c4565b7f00000000000000000000000000000000000000000000000000000000000000006104fe828b610790565b61050891906107a3565b955085471015610534576040516348767fc360e01b8152600481018790524760248201526044016101c4565b6001600160a01b038a165f81815260208181526040918290208c905581518c81529081018990527f67e81448d86cfbbf3135a82e52b8eb4eb9863ec9130b05e836045e45df94d788910160405180910390a25f8a6001600160a01b0316876040515f6040518083038185875af1925050503d805f81146105cf576040519150601f19603f3d011682016040523d82523d5f602084013e6105d4565b606091505b50509050806106175760405162461bcd60e51b815260206004820152600f60248201526e1d1c985b9cd9995c8819985a5b1959608a1b60448201526064016101c4565b505050505050949350505050565b5f60208284031215610635575f5ffd5b5035919050565b6001600160a01b0381168114610650575f5ffd5b50565b5f5f60408385031215610664575f5ffd5b823561066f8161063c565b946020939093013593505050565b5f5f5f5f60608587031215610690575f5ffd5b843561069b8161063c565b935060208501359250604085013567ffffffffffffffff8111156106bd575f5ffd5b8501601f810187136106cd575f5ffd5b803567ffffffffffffffff8111156106e3575f5ffd5b8760208284010111156106f4575f5ffd5b949793965060200194505050565b5f60208284031215610712575f5ffd5b813561071d8161063c565b9392505050565b5f5f85851115610732575f5ffd5b8386111561073e575f5ffd5b5050820193919092039150565b80356020831015610300575f19602084900360031b1b1692915050565b634e487b7160e01b5f52603260045260245ffd5b634e487b7160e01b5f52601160045260245ffd5b818103818111156103005761030061077c565b80820281158282048414176103005761030061077c56fea2646970667358221220b0ce123798a8a0b11fe691215abe9060ecd47997b91dd81461b35726980ec2e764736f6c63430008250033",
}

// Chequebook is an auto generated Go binding around an Ethereum contract.
type Chequebook struct {
	abi abi.ABI
}

// NewChequebook creates a new instance of Chequebook.
func NewChequebook() *Chequebook {
	parsed, err := ChequebookMetaData.ParseABI()
	if err != nil {
		panic(errors.New("invalid ABI: " + err.Error()))
	}
	return &Chequebook{abi: *parsed}
}

// Instance creates a wrapper for a deployed contract instance at the given address.
// Use this to create the instance object passed to abigen v2 library functions Call, Transact, etc.
func (c *Chequebook) Instance(backend bind.ContractBackend, addr common.Address) *bind.BoundContract {
	return bind.NewBoundContract(addr, c.abi, backend, backend, backend)
}

// PackConstructor is the Go binding used to pack the parameters required for
// contract deployment.
//
// Solidity: constructor(address issuer_, uint256 weiPerUnit_) payable returns()
func (chequebook *Chequebook) PackConstructor(issuer_ common.Address, weiPerUnit_ *big.Int) []byte {
	enc, err := chequebook.abi.Pack("", issuer_, weiPerUnit_)
	if err != nil {
		panic(err)
	}
	return enc
}

// PackCashCheque is the Go binding used to pack the parameters required for calling
// the contract method with ID 0x64f29708.  This method will panic if any
// invalid/nil inputs are passed.
//
// Solidity: function cashCheque(address beneficiary, uint256 cumulativeUnits, bytes sig) returns(uint256 paymentWei)
func (chequebook *Chequebook) PackCashCheque(beneficiary common.Address, cumulativeUnits *big.Int, sig []byte) []byte {
	enc, err := chequebook.abi.Pack("cashCheque", beneficiary, cumulativeUnits, sig)
	if err != nil {
		panic(err)
	}
	return enc
}

// TryPackCashCheque is the Go binding used to pack the parameters required for calling
// the contract method with ID 0x64f29708.  This method will return an error
// if any inputs are invalid/nil.
//
// Solidity: function cashCheque(address beneficiary, uint256 cumulativeUnits, bytes sig) returns(uint256 paymentWei)
func (chequebook *Chequebook) TryPackCashCheque(beneficiary common.Address, cumulativeUnits *big.Int, sig []byte) ([]byte, error) {
	return chequebook.abi.Pack("cashCheque", beneficiary, cumulativeUnits, sig)
}

// UnpackCashCheque is the Go binding that unpacks the parameters returned
// from invoking the contract method with ID 0x64f29708.
//
// Solidity: function cashCheque(address beneficiary, uint256 cumulativeUnits, bytes sig) returns(uint256 paymentWei)
func (chequebook *Chequebook) UnpackCashCheque(data []byte) (*big.Int, error) {
	out, err := chequebook.abi.Unpack("cashCheque", data)
	if err != nil {
		return new(big.Int), err
	}
	out0 := abi.ConvertType(out[0], new(big.Int)).(*big.Int)
	return out0, nil
}

// PackChequeDigest is the Go binding used to pack the parameters required for calling
// the contract method with ID 0x408f6aa5.  This method will panic if any
// invalid/nil inputs are passed.
//
// Solidity: function chequeDigest(address beneficiary, uint256 cumulativeUnits) view returns(bytes32)
func (chequebook *Chequebook) PackChequeDigest(beneficiary common.Address, cumulativeUnits *big.Int) []byte {
	enc, err := chequebook.abi.Pack("chequeDigest", beneficiary, cumulativeUnits)
	if err != nil {
		panic(err)
	}
	return enc
}

// TryPackChequeDigest is the Go binding used to pack the parameters required for calling
// the contract method with ID 0x408f6aa5.  This method will return an error
// if any inputs are invalid/nil.
//
// Solidity: function chequeDigest(address beneficiary, uint256 cumulativeUnits) view returns(bytes32)
func (chequebook *Chequebook) TryPackChequeDigest(beneficiary common.Address, cumulativeUnits *big.Int) ([]byte, error) {
	return chequebook.abi.Pack("chequeDigest", beneficiary, cumulativeUnits)
}

// UnpackChequeDigest is the Go binding that unpacks the parameters returned
// from invoking the contract method with ID 0x408f6aa5.
//
// Solidity: function chequeDigest(address beneficiary, uint256 cumulativeUnits) view returns(bytes32)
func (chequebook *Chequebook) UnpackChequeDigest(data []byte) ([32]byte, error) {
	out, err := chequebook.abi.Unpack("chequeDigest", data)
	if err != nil {
		return *new([32]byte), err
	}
	out0 := *abi.ConvertType(out[0], new([32]byte)).(*[32]byte)
	return out0, nil
}

// PackIssuer is the Go binding used to pack the parameters required for calling
// the contract method with ID 0x1d143848.  This method will panic if any
// invalid/nil inputs are passed.
//
// Solidity: function issuer() view returns(address)
func (chequebook *Chequebook) PackIssuer() []byte {
	enc, err := chequebook.abi.Pack("issuer")
	if err != nil {
		panic(err)
	}
	return enc
}

// TryPackIssuer is the Go binding used to pack the parameters required for calling
// the contract method with ID 0x1d143848.  This method will return an error
// if any inputs are invalid/nil.
//
// Solidity: function issuer() view returns(address)
func (chequebook *Chequebook) TryPackIssuer() ([]byte, error) {
	return chequebook.abi.Pack("issuer")
}

// UnpackIssuer is the Go binding that unpacks the parameters returned
// from invoking the contract method with ID 0x1d143848.
//
// Solidity: function issuer() view returns(address)
func (chequebook *Chequebook) UnpackIssuer(data []byte) (common.Address, error) {
	out, err := chequebook.abi.Unpack("issuer", data)
	if err != nil {
		return *new(common.Address), err
	}
	out0 := *abi.ConvertType(out[0], new(common.Address)).(*common.Address)
	return out0, nil
}

// PackPaidOut is the Go binding used to pack the parameters required for calling
// the contract method with ID 0x81f03fcb.  This method will panic if any
// invalid/nil inputs are passed.
//
// Solidity: function paidOut(address ) view returns(uint256)
func (chequebook *Chequebook) PackPaidOut(arg0 common.Address) []byte {
	enc, err := chequebook.abi.Pack("paidOut", arg0)
	if err != nil {
		panic(err)
	}
	return enc
}

// TryPackPaidOut is the Go binding used to pack the parameters required for calling
// the contract method with ID 0x81f03fcb.  This method will return an error
// if any inputs are invalid/nil.
//
// Solidity: function paidOut(address ) view returns(uint256)
func (chequebook *Chequebook) TryPackPaidOut(arg0 common.Address) ([]byte, error) {
	return chequebook.abi.Pack("paidOut", arg0)
}

// UnpackPaidOut is the Go binding that unpacks the parameters returned
// from invoking the contract method with ID 0x81f03fcb.
//
// Solidity: function paidOut(address ) view returns(uint256)
func (chequebook *Chequebook) UnpackPaidOut(data []byte) (*big.Int, error) {
	out, err := chequebook.abi.Unpack("paidOut", data)
	if err != nil {
		return new(big.Int), err
	}
	out0 := abi.ConvertType(out[0], new(big.Int)).(*big.Int)
	return out0, nil
}

// PackWeiPerUnit is the Go binding used to pack the parameters required for calling
// the contract method with ID 0x0693a3a2.  This method will panic if any
// invalid/nil inputs are passed.
//
// Solidity: function weiPerUnit() view returns(uint256)
func (chequebook *Chequebook) PackWeiPerUnit() []byte {
	enc, err := chequebook.abi.Pack("weiPerUnit")
	if err != nil {
		panic(err)
	}
	return enc
}

// TryPackWeiPerUnit is the Go binding used to pack the parameters required for calling
// the contract method with ID 0x0693a3a2.  This method will return an error
// if any inputs are invalid/nil.
//
// Solidity: function weiPerUnit() view returns(uint256)
func (chequebook *Chequebook) TryPackWeiPerUnit() ([]byte, error) {
	return chequebook.abi.Pack("weiPerUnit")
}

// UnpackWeiPerUnit is the Go binding that unpacks the parameters returned
// from invoking the contract method with ID 0x0693a3a2.
//
// Solidity: function weiPerUnit() view returns(uint256)
func (chequebook *Chequebook) UnpackWeiPerUnit(data []byte) (*big.Int, error) {
	out, err := chequebook.abi.Unpack("weiPerUnit", data)
	if err != nil {
		return new(big.Int), err
	}
	out0 := abi.ConvertType(out[0], new(big.Int)).(*big.Int)
	return out0, nil
}

// PackWithdraw is the Go binding used to pack the parameters required for calling
// the contract method with ID 0x2e1a7d4d.  This method will panic if any
// invalid/nil inputs are passed.
//
// Solidity: function withdraw(uint256 amountWei) returns()
func (chequebook *Chequebook) PackWithdraw(amountWei *big.Int) []byte {
	enc, err := chequebook.abi.Pack("withdraw", amountWei)
	if err != nil {
		panic(err)
	}
	return enc
}

// TryPackWithdraw is the Go binding used to pack the parameters required for calling
// the contract method with ID 0x2e1a7d4d.  This method will return an error
// if any inputs are invalid/nil.
//
// Solidity: function withdraw(uint256 amountWei) returns()
func (chequebook *Chequebook) TryPackWithdraw(amountWei *big.Int) ([]byte, error) {
	return chequebook.abi.Pack("withdraw", amountWei)
}

// ChequebookChequeCashed represents a ChequeCashed event raised by the Chequebook contract.
type ChequebookChequeCashed struct {
	Beneficiary     common.Address
	CumulativeUnits *big.Int
	PaymentWei      *big.Int
	Raw             *types.Log // Blockchain specific contextual infos
}

const ChequebookChequeCashedEventName = "ChequeCashed"

// ContractEventName returns the user-defined event name.
func (ChequebookChequeCashed) ContractEventName() string {
	return ChequebookChequeCashedEventName
}

// UnpackChequeCashedEvent is the Go binding that unpacks the event data emitted
// by contract.
//
// Solidity: event ChequeCashed(address indexed beneficiary, uint256 cumulativeUnits, uint256 paymentWei)
func (chequebook *Chequebook) UnpackChequeCashedEvent(log *types.Log) (*ChequebookChequeCashed, error) {
	event := "ChequeCashed"
	if len(log.Topics) == 0 || log.Topics[0] != chequebook.abi.Events[event].ID {
		return nil, errors.New("event signature mismatch")
	}
	out := new(ChequebookChequeCashed)
	if len(log.Data) > 0 {
		if err := chequebook.abi.UnpackIntoInterface(out, event, log.Data); err != nil {
			return nil, err
		}
	}
	var indexed abi.Arguments
	for _, arg := range chequebook.abi.Events[event].Inputs {
		if arg.Indexed {
			indexed = append(indexed, arg)
		}
	}
	if err := abi.ParseTopics(out, indexed, log.Topics[1:]); err != nil {
		return nil, err
	}
	out.Raw = log
	return out, nil
}

// UnpackError attempts to decode the provided error data using user-defined
// error definitions.
func (chequebook *Chequebook) UnpackError(raw []byte) (any, error) {
	if bytes.Equal(raw[:4], chequebook.abi.Errors["BadSignature"].ID.Bytes()[:4]) {
		return chequebook.UnpackBadSignatureError(raw[4:])
	}
	if bytes.Equal(raw[:4], chequebook.abi.Errors["Bounced"].ID.Bytes()[:4]) {
		return chequebook.UnpackBouncedError(raw[4:])
	}
	if bytes.Equal(raw[:4], chequebook.abi.Errors["NotIssuer"].ID.Bytes()[:4]) {
		return chequebook.UnpackNotIssuerError(raw[4:])
	}
	if bytes.Equal(raw[:4], chequebook.abi.Errors["NothingToCash"].ID.Bytes()[:4]) {
		return chequebook.UnpackNothingToCashError(raw[4:])
	}
	return nil, errors.New("Unknown error")
}

// ChequebookBadSignature represents a BadSignature error raised by the Chequebook contract.
type ChequebookBadSignature struct {
}

// ErrorID returns the hash of canonical representation of the error's signature.
//
// Solidity: error BadSignature()
func ChequebookBadSignatureErrorID() common.Hash {
	return common.HexToHash("0x5cd5d2335541c4f2ed05fbe44f397e8b79f8e2333157122d2dab06e378ef7685")
}

// UnpackBadSignatureError is the Go binding used to decode the provided
// error data into the corresponding Go error struct.
//
// Solidity: error BadSignature()
func (chequebook *Chequebook) UnpackBadSignatureError(raw []byte) (*ChequebookBadSignature, error) {
	out := new(ChequebookBadSignature)
	if err := chequebook.abi.UnpackIntoInterface(out, "BadSignature", raw); err != nil {
		return nil, err
	}
	return out, nil
}

// ChequebookBounced represents a Bounced error raised by the Chequebook contract.
type ChequebookBounced struct {
	PaymentWei *big.Int
	BalanceWei *big.Int
}

// ErrorID returns the hash of canonical representation of the error's signature.
//
// Solidity: error Bounced(uint256 paymentWei, uint256 balanceWei)
func ChequebookBouncedErrorID() common.Hash {
	return common.HexToHash("0x48767fc3b4779d0d1ffdd27ddc89554afb8df17605a8d3fe3fefbc8f9855dbbc")
}

// UnpackBouncedError is the Go binding used to decode the provided
// error data into the corresponding Go error struct.
//
// Solidity: error Bounced(uint256 paymentWei, uint256 balanceWei)
func (chequebook *Chequebook) UnpackBouncedError(raw []byte) (*ChequebookBounced, error) {
	out := new(ChequebookBounced)
	if err := chequebook.abi.UnpackIntoInterface(out, "Bounced", raw); err != nil {
		return nil, err
	}
	return out, nil
}

// ChequebookNotIssuer represents a NotIssuer error raised by the Chequebook contract.
type ChequebookNotIssuer struct {
	Signer common.Address
}

// ErrorID returns the hash of canonical representation of the error's signature.
//
// Solidity: error NotIssuer(address signer)
func ChequebookNotIssuerErrorID() common.Hash {
	return common.HexToHash("0x3fd26f9e33c9918e06ecb7ad4289a3ea9a31c60d80fdf1b560567d3b8d749885")
}

// UnpackNotIssuerError is the Go binding used to decode the provided
// error data into the corresponding Go error struct.
//
// Solidity: error NotIssuer(address signer)
func (chequebook *Chequebook) UnpackNotIssuerError(raw []byte) (*ChequebookNotIssuer, error) {
	out := new(ChequebookNotIssuer)
	if err := chequebook.abi.UnpackIntoInterface(out, "NotIssuer", raw); err != nil {
		return nil, err
	}
	return out, nil
}

// ChequebookNothingToCash represents a NothingToCash error raised by the Chequebook contract.
type ChequebookNothingToCash struct {
	CumulativeUnits *big.Int
	AlreadyPaid     *big.Int
}

// ErrorID returns the hash of canonical representation of the error's signature.
//
// Solidity: error NothingToCash(uint256 cumulativeUnits, uint256 alreadyPaid)
func ChequebookNothingToCashErrorID() common.Hash {
	return common.HexToHash("0x759f4b10068222f6cce229fb0fd624a23edb39fd0623b6ef2aae3b70e6afe96e")
}

// UnpackNothingToCashError is the Go binding used to decode the provided
// error data into the corresponding Go error struct.
//
// Solidity: error NothingToCash(uint256 cumulativeUnits, uint256 alreadyPaid)
func (chequebook *Chequebook) UnpackNothingToCashError(raw []byte) (*ChequebookNothingToCash, error) {
	out := new(ChequebookNothingToCash)
	if err := chequebook.abi.UnpackIntoInterface(out, "NothingToCash", raw); err != nil {
		return nil, err
	}
	return out, nil
}
